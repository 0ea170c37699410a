""".at[].set(1) marks the cells that occur instead of counting every example that lands in them."""
MUST_FAIL = ["test_confusion_matrix"]
MUST_SAY = {"test_confusion_matrix": [".set(1)"]}


def confusion_matrix(labels, predictions, num_classes):
    return jnp.zeros((num_classes, num_classes), jnp.int32).at[labels, predictions].set(1)
