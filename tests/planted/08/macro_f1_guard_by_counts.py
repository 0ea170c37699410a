"""Macro scores whose F1 is guarded only where a class has predictions and examples: a class predicted
and present but never right has precision 0 and recall 0, and its F1 is 0 / 0 = nan (the docstring's
third case, precision + recall = 0)."""
MUST_FAIL = ["test_macro_scores_zero_division"]
MUST_SAY = {"test_macro_scores_zero_division": ["F1 came out NaN", "precision + recall = 0"]}
MUST_PASS = ["test_macro_scores"]


def macro_scores(confusion):
    confusion = confusion.astype(jnp.float32)
    tp = jnp.diag(confusion)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = tp / jnp.maximum(predicted, 1.0)
    recall = tp / jnp.maximum(actual, 1.0)
    f1 = jnp.where((predicted > 0) & (actual > 0), 2 * precision * recall / (precision + recall), 0.0)
    return precision.mean(), recall.mean(), f1.mean()
