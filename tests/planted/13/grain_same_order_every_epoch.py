"""grain_dataset repeats without reseeding: every epoch replays the first one's order."""
MUST_FAIL = ["test_grain_dataset_epochs"]
MUST_SAY = {"test_grain_dataset_epochs": ["reseeds the shuffle each epoch"]}
MUST_PASS = ["test_grain_dataset_resumes_from_a_saved_state"]


def grain_dataset(data, batch_size, seed, num_epochs):
    return (grain.MapDataset.source(ArrayDataset(data)).shuffle(seed=seed).batch(batch_size, drop_remainder=True)
            .map(to_model).repeat(num_epochs, reseed_each_epoch=False).to_iter_dataset())
