"""predict_one that flattens exactly two axes (image.reshape(h * w)): right for an (8, 8) image, wrong
for an example of another number of axes, which the docstring's "one example of any shape" allows."""
MUST_FAIL = ["test_predict_one"]
MUST_SAY = {"test_predict_one": ["(4, 4, 4)", "any shape"]}


def predict_one(params, image):
    return forward(params, image.reshape(image.shape[0] * image.shape[1]))
