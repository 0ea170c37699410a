"""ReLU after every layer, the last one too, so the network can never output a negative number."""
MUST_FAIL = ["test_forward", "test_forward_last_layer_is_linear"]
MUST_SAY = {"test_forward_last_layer_is_linear": ["no output is negative", "last layer"]}
# The exercises built on this one are judged on its docstring's version: they pass.
MUST_PASS = ["test_train_step", "test_fit_follows_sgd", "test_fit_sine", "test_predict_one", "test_predict"]


def forward(params, x):
    for layer in params:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x
