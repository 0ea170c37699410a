"""The Dropout layer is left out: training mode is as deterministic as eval mode."""
MUST_FAIL = ["test_dropout_only_in_training", "test_cnn_layers"]


class CNN(CNN):
    def __init__(self, *, rngs: nnx.Rngs):
        super().__init__(rngs=rngs)
        del self.dropout

    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.bn1(self.conv1(x))), (2, 2), strides=(2, 2))
        x = nnx.max_pool(nnx.relu(self.bn2(self.conv2(x))), (2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        return self.dense2(nnx.relu(self.dense1(x)))
