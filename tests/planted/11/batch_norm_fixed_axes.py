"""batch_norm reduces over axes (0, 1), written for x of shape (batch, length, c): right for three axes,
wrong for images (batch, height, width, c), whose statistics must also run over the width."""
MUST_FAIL = ["test_batch_norm_training_output"]
MUST_SAY = {"test_batch_norm_training_output": ["first 2 axes only", "x.ndim"]}


def batch_norm(x, scale, bias, running_mean, running_var, training, momentum=0.99, eps=1e-5):
    if not training:
        return (x - running_mean) * jax.lax.rsqrt(running_var + eps) * scale + bias, running_mean, running_var
    mean = jnp.mean(x, axis=(0, 1))
    var = jnp.mean((x - mean) ** 2, axis=(0, 1))
    y = (x - mean) * jax.lax.rsqrt(var + eps) * scale + bias
    return y, momentum * running_mean + (1 - momentum) * mean, momentum * running_var + (1 - momentum) * var
