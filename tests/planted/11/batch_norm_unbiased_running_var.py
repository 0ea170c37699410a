"""batch_norm folds the sample variance (n - 1) into the running variance, as PyTorch does; Flax uses
the plain one."""
MUST_FAIL = ["test_batch_norm_running_averages"]
MUST_SAY = {"test_batch_norm_running_averages": ["ddof=1"]}


def batch_norm(x, scale, bias, running_mean, running_var, training, momentum=0.99, eps=1e-5):
    if training:
        axes = tuple(range(x.ndim - 1))
        mean, var = jnp.mean(x, axis=axes), jnp.var(x, axis=axes)
        y = (x - mean) / jnp.sqrt(var + eps) * scale + bias
        unbiased = jnp.var(x, axis=axes, ddof=1)
        return (y, momentum * running_mean + (1 - momentum) * mean,
                momentum * running_var + (1 - momentum) * unbiased)
    y = (x - running_mean) / jnp.sqrt(running_var + eps) * scale + bias
    return y, running_mean, running_var
