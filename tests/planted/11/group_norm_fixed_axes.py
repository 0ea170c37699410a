"""group_norm written for images only: it reduces over axes (1, 2) and the group's channels, so any
other number of axes between batch and channels breaks."""
MUST_FAIL = ["test_group_norm_any_shape"]


def group_norm(x, scale, bias, num_groups, eps=1e-6):
    b, h, w, c = x.shape
    grouped = x.reshape(b, h, w, num_groups, c // num_groups)
    mean = jnp.mean(grouped, axis=(1, 2, 4), keepdims=True)
    var = jnp.var(grouped, axis=(1, 2, 4), keepdims=True)
    return ((grouped - mean) / jnp.sqrt(var + eps)).reshape(x.shape) * scale + bias
