"""batches yields the short last batch even with drop_last=True."""
MUST_FAIL = ["test_batches_drop_last"]
MUST_SAY = {"test_batches_drop_last": ["skips the short last chunk"]}
MUST_PASS = ["test_batches_one_epoch"]


def batches(dataset, batch_size, seed, epoch, drop_last=False):
    order = epoch_order(len(dataset), seed, epoch)
    for start in range(0, len(order), batch_size):
        yield collate([dataset[int(i)] for i in order[start:start + batch_size]])
