"""CNN forgets the second max pool: the (b, 4, 4, 32) features flatten to 512 values, which dense1
(128 -> 64) can't take, so the forward pass raises. The layers are all there, with the right number of
parameters: the construction tests still pass, and so do train_step's and eval_step's (they run on the
tests' own small model)."""
MUST_FAIL = ["test_cnn_output_shape"]
MUST_SAY = {"test_cnn_output_shape": ["(b, 4, 4, 16) -> (b, 2, 2, 32) -> (b, 128)"]}
MUST_PASS = ["test_cnn_parameter_count", "test_cnn_layers", "test_train_step_updates_model",
             "test_eval_step_metrics"]


class CNN(CNN):
    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.bn1(self.conv1(x))), window_shape=(2, 2), strides=(2, 2))
        x = nnx.relu(self.bn2(self.conv2(x)))
        x = x.reshape(x.shape[0], -1)
        x = self.dropout(nnx.relu(self.dense1(x)))
        return self.dense2(x)
