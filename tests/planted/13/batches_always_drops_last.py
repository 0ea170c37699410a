"""batches drops the short last batch whatever drop_last says."""
MUST_FAIL = ["test_batches_one_epoch"]
MUST_SAY = {"test_batches_one_epoch": ["without drop_last"]}
MUST_PASS = ["test_batches_drop_last"]


def batches(dataset, batch_size, seed, epoch, drop_last=False):
    order = epoch_order(len(dataset), seed, epoch)
    for start in range(0, len(order) - batch_size + 1, batch_size):
        yield collate([dataset[int(i)] for i in order[start:start + batch_size]])
