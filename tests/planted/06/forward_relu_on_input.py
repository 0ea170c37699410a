"""ReLU applied to each hidden layer's input (before the matmul) instead of to its output."""
MUST_FAIL = ["test_forward"]
MUST_SAY = {"test_forward": ["input"]}


def forward(params, x):
    *hidden, last = params
    for layer in hidden:
        x = jax.nn.relu(x) @ layer["w"] + layer["b"]
    return x @ last["w"] + last["b"]
