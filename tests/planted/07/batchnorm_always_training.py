"""BatchNorm is called with use_running_average=False, so it normalizes with the batch's statistics
and updates its running averages even in eval mode."""
MUST_FAIL = ["test_batchnorm_updates_only_in_training"]


class CNN(CNN):
    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.bn1(self.conv1(x), use_running_average=False)), (2, 2), strides=(2, 2))
        x = nnx.max_pool(nnx.relu(self.bn2(self.conv2(x), use_running_average=False)), (2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        return self.dense2(self.dropout(nnx.relu(self.dense1(x))))
