"""grain_dataset never maps the batches through to_model: x stays uint8."""
MUST_FAIL = ["test_grain_dataset_epochs"]
MUST_SAY = {"test_grain_dataset_epochs": ["to_model"]}
MUST_PASS = ["test_grain_dataset_resumes_from_a_saved_state"]


def grain_dataset(data, batch_size, seed, num_epochs):
    return (grain.MapDataset.source(ArrayDataset(data)).shuffle(seed=seed).batch(batch_size, drop_remainder=True)
            .repeat(num_epochs).to_iter_dataset())
