"""layer_norm takes its mean and variance over axis 0, across the rows, instead of each row's features."""
MUST_FAIL = ["test_layer_norm", "test_layer_norm_small_variance"]
MUST_SAY = {"test_layer_norm": ["axis 0"]}


def layer_norm(x, scale, bias, eps=1e-6):
    mean = jnp.mean(x, axis=0, keepdims=True)
    var = jnp.var(x, axis=0, keepdims=True)
    return (x - mean) / jnp.sqrt(var + eps) * scale + bias
