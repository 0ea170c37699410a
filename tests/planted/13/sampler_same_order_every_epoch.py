"""epoch_order seeds its generator with the seed alone: every epoch visits the examples in the same order."""
MUST_FAIL = ["test_epoch_order_is_a_new_permutation_each_epoch", "test_epoch_order_values"]
MUST_SAY = {"test_epoch_order_is_a_new_permutation_each_epoch": ["seed the generator with the epoch too"],
            "test_epoch_order_values": ["seeded with the seed alone"]}


def epoch_order(n, seed, epoch):
    return np.random.default_rng(seed).permutation(n)
