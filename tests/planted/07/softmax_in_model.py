"""CNN ends with a softmax, so it returns probabilities instead of logits; the cross-entropy then
applies a second softmax, whose gradients are tiny, and training barely moves the loss."""
MUST_FAIL = ["test_cnn_forward_fixed_weights", "test_loss_falls"]
MUST_SAY = {"test_cnn_forward_fixed_weights": ["returns probabilities", "softmax"],
            "test_loss_falls": ["returns probabilities", "softmax inside CNN"]}


class CNN(CNN):
    def __call__(self, x):
        return nnx.softmax(super().__call__(x), axis=-1)
