"""A ReLU after dense2 as well: the "logits" can never be negative."""
MUST_FAIL = ["test_cnn_forward_fixed_weights"]
MUST_SAY = {"test_cnn_forward_fixed_weights": ["ReLU after dense2"]}
MUST_PASS = ["test_cnn_parameter_count", "test_cnn_output_shape"]


class CNN(CNN):
    def __call__(self, x):
        return nnx.relu(super().__call__(x))
