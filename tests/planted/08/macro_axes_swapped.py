"""Precision divided by the row sums and recall by the column sums: the two are swapped."""
MUST_FAIL = ["test_macro_scores"]
MUST_SAY = {"test_macro_scores": ["swapped"]}


def macro_scores(confusion):
    confusion = confusion.astype(jnp.float32)
    tp = jnp.diag(confusion)
    precision = tp / jnp.maximum(confusion.sum(axis=1), 1.0)
    recall = tp / jnp.maximum(confusion.sum(axis=0), 1.0)
    f1 = 2.0 * tp / jnp.maximum(confusion.sum(axis=0) + confusion.sum(axis=1), 1.0)
    return precision.mean(), recall.mean(), f1.mean()
