"""BatchNorm keeps its default momentum of 0.99: in a run of 220 steps the running averages lag far
behind the batch statistics, and the model does badly in eval mode."""
MUST_FAIL = ["test_cnn_layers", "test_test_accuracy"]


class CNN(CNN):
    def __init__(self, *, rngs: nnx.Rngs):
        super().__init__(rngs=rngs)
        self.bn1.momentum = 0.99
        self.bn2.momentum = 0.99
