"""pad_batch leaves the short batch as it is and makes only a mask: the last batch compiles a new program."""
MUST_FAIL = ["test_pad_batch", "test_pad_batch_keeps_one_compiled_program"]
MUST_SAY = {"test_pad_batch_keeps_one_compiled_program": ["compiles a new program"]}


def pad_batch(batch, batch_size):
    n = len(next(iter(batch.values())))
    return dict(batch), np.ones(n, bool)
