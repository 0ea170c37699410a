"""A Python loop of one .at[].add per example: right counts, a program that grows with the batch."""
MUST_FAIL = ["test_confusion_matrix_is_one_scatter_add"]
MUST_SAY = {"test_confusion_matrix_is_one_scatter_add": ["python loop"]}


def confusion_matrix(labels, predictions, num_classes):
    out = jnp.zeros((num_classes, num_classes), jnp.int32)
    for i in range(labels.shape[0]):
        out = out.at[labels[i], predictions[i]].add(1)
    return out
