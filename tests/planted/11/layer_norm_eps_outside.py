"""layer_norm divides by the standard deviation plus eps, sqrt(var) + eps, instead of sqrt(var + eps):
right while the variance is large, far off for rows of small spread."""
MUST_FAIL = ["test_layer_norm_small_variance"]
MUST_SAY = {"test_layer_norm_small_variance": ["outside the square root"]}


def layer_norm(x, scale, bias, eps=1e-6):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    std = jnp.std(x, axis=-1, keepdims=True)
    return (x - mean) / (std + eps) * scale + bias
