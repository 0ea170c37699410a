"""Macro F1 as the harmonic mean of the macro precision and recall, not the mean of the per-class F1s."""
MUST_FAIL = ["test_macro_scores"]
MUST_SAY = {"test_macro_scores": ["mean of each class's own f1"]}


def macro_scores(confusion):
    confusion = confusion.astype(jnp.float32)
    tp = jnp.diag(confusion)
    precision = (tp / jnp.maximum(confusion.sum(axis=0), 1.0)).mean()
    recall = (tp / jnp.maximum(confusion.sum(axis=1), 1.0)).mean()
    return precision, recall, 2 * precision * recall / (precision + recall)
