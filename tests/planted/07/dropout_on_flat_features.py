"""Dropout is applied to the flattened conv features, before dense1, instead of to dense1's ReLU
output: eval mode is unchanged, but training drops other units than the docstring's forward pass."""
MUST_FAIL = ["test_dropout_only_in_training"]
MUST_SAY = {"test_dropout_only_in_training": ["flattened conv features"]}


class CNN(CNN):
    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.bn1(self.conv1(x))), (2, 2), strides=(2, 2))
        x = nnx.max_pool(nnx.relu(self.bn2(self.conv2(x))), (2, 2), strides=(2, 2))
        x = self.dropout(x.reshape(x.shape[0], -1))
        return self.dense2(nnx.relu(self.dense1(x)))
