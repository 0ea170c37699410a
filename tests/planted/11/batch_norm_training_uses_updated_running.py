"""batch_norm in training mode normalizes with the UPDATED running averages (the ones it returns)
instead of the batch's own statistics."""
MUST_FAIL = ["test_batch_norm_training_output"]
MUST_SAY = {"test_batch_norm_training_output": ["UPDATED running averages"]}
_reference_batch_norm = batch_norm


def batch_norm(x, scale, bias, running_mean, running_var, training, momentum=0.99, eps=1e-5):
    _, new_mean, new_var = _reference_batch_norm(x, scale, bias, running_mean, running_var, training, momentum, eps)
    y = (x - new_mean) / jnp.sqrt(new_var + eps) * scale + bias
    return y, new_mean, new_var
