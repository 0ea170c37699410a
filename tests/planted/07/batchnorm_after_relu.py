"""Each block is conv -> relu -> BatchNorm -> pool: BatchNorm comes after the ReLU instead of before."""
MUST_FAIL = ["test_cnn_forward_fixed_weights"]
MUST_SAY = {"test_cnn_forward_fixed_weights": ["BatchNorm after its ReLU"]}


class CNN(CNN):
    def __call__(self, x):
        x = nnx.max_pool(self.bn1(nnx.relu(self.conv1(x))), window_shape=(2, 2), strides=(2, 2))
        x = nnx.max_pool(self.bn2(nnx.relu(self.conv2(x))), window_shape=(2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        return self.dense2(self.dropout(nnx.relu(self.dense1(x))))
