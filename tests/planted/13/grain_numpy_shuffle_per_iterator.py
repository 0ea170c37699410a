"""grain_dataset shuffles with a global NumPy generator when the pipeline is built: each call gives another
order, and the order is no function of the seed, so nothing can be repeated or resumed."""
MUST_FAIL = ["test_grain_dataset_epochs"]
MUST_SAY = {"test_grain_dataset_epochs": ["from the seed argument alone"]}


def grain_dataset(data, batch_size, seed, num_epochs):
    order = np.random.permutation(len(next(iter(data.values()))))
    shuffled = {key: value[order] for key, value in data.items()}
    return (grain.MapDataset.source(ArrayDataset(shuffled)).shuffle(seed=seed).batch(batch_size, drop_remainder=True)
            .map(to_model).repeat(num_epochs).to_iter_dataset())
