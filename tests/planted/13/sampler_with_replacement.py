"""epoch_order draws n indices with replacement: some examples twice in an epoch, some never."""
MUST_FAIL = ["test_epoch_order_is_a_new_permutation_each_epoch", "test_epoch_order_values"]
MUST_SAY = {"test_epoch_order_is_a_new_permutation_each_epoch": ["not n draws with replacement"]}


def epoch_order(n, seed, epoch):
    return np.random.default_rng((seed, epoch)).integers(0, n, n)
