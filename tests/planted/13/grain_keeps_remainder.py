"""grain_dataset keeps each epoch's short last batch (batch without drop_remainder)."""
MUST_FAIL = ["test_grain_dataset_epochs"]
MUST_SAY = {"test_grain_dataset_epochs": ["drop_remainder=True"]}


def grain_dataset(data, batch_size, seed, num_epochs):
    return (grain.MapDataset.source(ArrayDataset(data)).shuffle(seed=seed).batch(batch_size)
            .map(to_model).repeat(num_epochs).to_iter_dataset())
