"""Counts from a product of one-hot matrices: right values, no scatter-add."""
MUST_FAIL = ["test_confusion_matrix_is_one_scatter_add"]
MUST_SAY = {"test_confusion_matrix_is_one_scatter_add": ["one-hot"]}


def confusion_matrix(labels, predictions, num_classes):
    truth = jax.nn.one_hot(labels, num_classes, dtype=jnp.int32)
    guess = jax.nn.one_hot(predictions, num_classes, dtype=jnp.int32)
    return truth.T @ guess
