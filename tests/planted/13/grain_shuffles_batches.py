"""grain_dataset batches first and shuffles the batches: the same examples travel together every epoch."""
MUST_FAIL = ["test_grain_dataset_epochs"]
MUST_SAY = {"test_grain_dataset_epochs": ["shuffling whole batches"]}


def grain_dataset(data, batch_size, seed, num_epochs):
    return (grain.MapDataset.source(ArrayDataset(data)).batch(batch_size, drop_remainder=True).shuffle(seed=seed)
            .map(to_model).repeat(num_epochs).to_iter_dataset())
