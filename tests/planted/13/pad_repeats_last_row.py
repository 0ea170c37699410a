"""pad_batch fills the short batch with copies of its last row instead of zeros: one shape, but not the
documented padding."""
MUST_FAIL = ["test_pad_batch"]
MUST_SAY = {"test_pad_batch": ["rows of zeros"]}
MUST_PASS = ["test_pad_batch_keeps_one_compiled_program"]


def pad_batch(batch, batch_size):
    n = len(next(iter(batch.values())))
    index = np.minimum(np.arange(batch_size), n - 1)
    return {key: np.asarray(value)[index] for key, value in batch.items()}, np.arange(batch_size) < n
