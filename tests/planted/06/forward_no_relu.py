"""A forward pass with no activation at all: the network collapses into one linear map."""
MUST_FAIL = ["test_forward", "test_forward_last_layer_is_linear"]
MUST_SAY = {"test_forward": ["no activation"]}


def forward(params, x):
    for layer in params:
        x = x @ layer["w"] + layer["b"]
    return x
