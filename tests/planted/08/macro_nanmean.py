"""Per-class scores by plain division (NaN where a class has no predictions or no examples), then
jnp.nanmean: the empty classes are left out of the mean instead of counting as 0."""
MUST_FAIL = ["test_macro_scores_zero_division"]
MUST_SAY = {"test_macro_scores_zero_division": ["jnp.nanmean", "every one of the n classes"]}


def macro_scores(confusion):
    confusion = confusion.astype(jnp.float32)
    tp = jnp.diag(confusion)
    precision = tp / confusion.sum(axis=0)
    recall = tp / confusion.sum(axis=1)
    f1 = 2 * precision * recall / (precision + recall)
    return jnp.nanmean(precision), jnp.nanmean(recall), jnp.nanmean(f1)
