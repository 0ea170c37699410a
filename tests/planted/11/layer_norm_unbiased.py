"""layer_norm with the sample variance (ddof=1), as torch.var defaults to, instead of dividing by d."""
MUST_FAIL = ["test_layer_norm", "test_layer_norm_small_variance"]
MUST_SAY = {"test_layer_norm": ["ddof=1"]}


def layer_norm(x, scale, bias, eps=1e-6):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.var(x, axis=-1, keepdims=True, ddof=1)
    return (x - mean) / jnp.sqrt(var + eps) * scale + bias
