"""instance_norm that names the image axes (1, 2) instead of building them from x.ndim."""
MUST_FAIL = ["test_instance_norm_any_shape"]


def instance_norm(x, scale, bias, eps=1e-6):
    mean = jnp.mean(x, axis=(1, 2), keepdims=True)
    var = jnp.var(x, axis=(1, 2), keepdims=True)
    return (x - mean) / jnp.sqrt(var + eps) * scale + bias
