"""instance_norm reduces over every axis but the batch, channels included: one mean per example."""
MUST_FAIL = ["test_instance_norm", "test_instance_norm_any_shape"]
MUST_SAY = {"test_instance_norm": ["also ran over the channels"]}


def instance_norm(x, scale, bias, eps=1e-6):
    axes = tuple(range(1, x.ndim))
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.var(x, axis=axes, keepdims=True)
    return (x - mean) / jnp.sqrt(var + eps) * scale + bias
