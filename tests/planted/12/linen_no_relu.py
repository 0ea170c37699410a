"""LinenMLP leaves out the relu between BatchNorm and Dropout: the model is linear in evaluation."""
MUST_FAIL = ["test_linen_eval_fixed_weights"]
MUST_SAY = {"test_linen_eval_fixed_weights": ["no relu after BatchNorm"]}
MUST_PASS = ["test_linen_variables", "test_linen_predict"]


class LinenMLP(LinenMLP):
    @nn.compact
    def __call__(self, x, train: bool):
        x = nn.Dense(HIDDEN, name="dense1")(x)
        x = nn.BatchNorm(use_running_average=not train, momentum=MOMENTUM, epsilon=EPSILON, name="bn")(x)
        x = nn.Dropout(RATE, deterministic=not train)(x)
        return nn.Dense(CLASSES, name="dense2")(x)
