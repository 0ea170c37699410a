"""NNXMLP calls its BatchNorm with use_running_average=True: in training it normalizes with the running
statistics and never updates them. The evaluation output is right."""
MUST_FAIL = ["test_nnx_train_and_eval_modes"]
MUST_SAY = {"test_nnx_train_and_eval_modes": ["called with no mode argument"]}
MUST_PASS = ["test_nnx_eval_fixed_weights", "test_linen_to_nnx"]


class NNXMLP(NNXMLP):
    def __call__(self, x):
        x = self.dropout(nnx.relu(self.bn(self.dense1(x), use_running_average=True)))
        return self.dense2(x)
