"""Rows indexed by the prediction and columns by the truth: the transpose of scikit-learn's layout."""
MUST_FAIL = ["test_confusion_matrix"]
MUST_SAY = {"test_confusion_matrix": ["transpose"]}


def confusion_matrix(labels, predictions, num_classes):
    return jnp.zeros((num_classes, num_classes), jnp.int32).at[predictions, labels].add(1)
