"""collate stacks only x and y: every other field of the examples is lost from the batch."""
MUST_FAIL = ["test_collate"]
MUST_SAY = {"test_collate": ["forget one"]}
MUST_PASS = ["test_batches_one_epoch", "test_batches_drop_last"]


def collate(examples):
    return {key: np.stack([example[key] for example in examples]) for key in ("x", "y")}
