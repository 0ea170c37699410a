"""predict_one that runs the network on the (8, 8) image as it is, without flattening it."""
MUST_FAIL = ["test_predict_one"]
MUST_SAY = {"test_predict_one": ["flatten"]}
# The exercises built on this one are judged on its docstring's version: they pass.
MUST_PASS = ["test_predict", "test_predict_uses_vmap"]


def predict_one(params, image):
    return forward(params, image)
