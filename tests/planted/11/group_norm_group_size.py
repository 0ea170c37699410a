"""group_norm reads num_groups as the number of channels in each group."""
MUST_FAIL = ["test_group_norm", "test_group_norm_any_shape"]
MUST_SAY = {"test_group_norm": ["number of groups"]}


def group_norm(x, scale, bias, num_groups, eps=1e-6):
    shape = x.shape
    grouped = x.reshape(shape[:-1] + (shape[-1] // num_groups, num_groups))
    axes = tuple(range(1, grouped.ndim - 2)) + (grouped.ndim - 1,)
    mean = jnp.mean(grouped, axis=axes, keepdims=True)
    var = jnp.var(grouped, axis=axes, keepdims=True)
    return ((grouped - mean) / jnp.sqrt(var + eps)).reshape(shape) * scale + bias
