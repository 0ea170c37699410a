"""Dropout is called with deterministic=False, so it stays on in eval mode too."""
MUST_FAIL = ["test_dropout_only_in_training"]


class CNN(CNN):
    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.bn1(self.conv1(x))), (2, 2), strides=(2, 2))
        x = nnx.max_pool(nnx.relu(self.bn2(self.conv2(x))), (2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        return self.dense2(self.dropout(nnx.relu(self.dense1(x)), deterministic=False))
