"""ReLU after every layer, the last one too, so the network can never output a negative number."""
MUST_FAIL = ["test_forward", "test_forward_last_layer_is_linear"]
MUST_SAY = {"test_forward_last_layer_is_linear": ["no output is negative", "last layer"]}


def forward(params, x):
    for layer in params:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x
