"""Plain division: a class never predicted gives 0 / 0 = nan in precision, and nan spreads to the mean."""
MUST_FAIL = ["test_macro_scores_zero_division"]
MUST_SAY = {"test_macro_scores_zero_division": ["nan"]}


def macro_scores(confusion):
    confusion = confusion.astype(jnp.float32)
    tp = jnp.diag(confusion)
    precision = tp / confusion.sum(axis=0)
    recall = tp / confusion.sum(axis=1)
    f1 = 2 * precision * recall / (precision + recall)
    return precision.mean(), recall.mean(), f1.mean()
