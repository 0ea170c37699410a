"""NNXMLP calls its dropout with deterministic=True: model.train() can no longer turn it on. The
evaluation output is right, and linen_to_nnx runs on the docstring's model."""
MUST_FAIL = ["test_nnx_train_and_eval_modes"]
MUST_SAY = {"test_nnx_train_and_eval_modes": ["model.train() turns it on"]}
MUST_PASS = ["test_nnx_eval_fixed_weights", "test_linen_to_nnx"]


class NNXMLP(NNXMLP):
    def __call__(self, x):
        x = self.dropout(nnx.relu(self.bn(self.dense1(x))), deterministic=True)
        return self.dense2(x)
