"""batch_norm normalizes with the running averages in training mode too (it updates them right)."""
MUST_FAIL = ["test_batch_norm_training_output"]
MUST_SAY = {"test_batch_norm_training_output": ["running averages"]}
_reference_batch_norm = batch_norm


def batch_norm(x, scale, bias, running_mean, running_var, training, momentum=0.99, eps=1e-5):
    _, new_mean, new_var = _reference_batch_norm(x, scale, bias, running_mean, running_var, training, momentum, eps)
    y = (x - running_mean) / jnp.sqrt(running_var + eps) * scale + bias
    return y, new_mean, new_var
