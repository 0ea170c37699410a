"""CNN flattens the (2, 2, 32) features channels first (a transpose to (b, 32, 2, 2) before the
reshape), so dense1's weights meet the features in another order than the docstring's."""
MUST_FAIL = ["test_cnn_forward_fixed_weights"]
MUST_SAY = {"test_cnn_forward_fixed_weights": ["flattened channels first"]}
MUST_PASS = ["test_cnn_parameter_count", "test_cnn_output_shape"]


class CNN(CNN):
    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.bn1(self.conv1(x))), window_shape=(2, 2), strides=(2, 2))
        x = nnx.max_pool(nnx.relu(self.bn2(self.conv2(x))), window_shape=(2, 2), strides=(2, 2))
        x = x.transpose(0, 3, 1, 2).reshape(x.shape[0], -1)
        return self.dense2(self.dropout(nnx.relu(self.dense1(x))))
