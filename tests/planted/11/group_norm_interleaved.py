"""group_norm reshapes the channels to (c // num_groups, num_groups), so group g holds every
num_groups-th channel instead of a block of consecutive ones."""
MUST_FAIL = ["test_group_norm", "test_group_norm_any_shape"]
MUST_SAY = {"test_group_norm": ["interleaved", "consecutive"]}


def group_norm(x, scale, bias, num_groups, eps=1e-6):
    shape = x.shape
    grouped = x.reshape(shape[:-1] + (shape[-1] // num_groups, num_groups))
    axes = tuple(range(1, grouped.ndim - 2)) + (grouped.ndim - 2,)
    mean = jnp.mean(grouped, axis=axes, keepdims=True)
    var = jnp.var(grouped, axis=axes, keepdims=True)
    return ((grouped - mean) / jnp.sqrt(var + eps)).reshape(shape) * scale + bias
