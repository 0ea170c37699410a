"""epoch_order seeds its generator with seed + epoch, as many loaders do: a new permutation each epoch, but
(seed 3, epoch 2) shuffles as (seed 2, epoch 3)."""
MUST_FAIL = ["test_epoch_order_values"]
MUST_SAY = {"test_epoch_order_values": ["seed + epoch"]}
MUST_PASS = ["test_epoch_order_is_a_new_permutation_each_epoch"]


def epoch_order(n, seed, epoch):
    return np.random.default_rng(seed + epoch).permutation(n)
