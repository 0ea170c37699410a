"""batch_norm normalizes with the batch's statistics in both modes (and leaves the running averages
alone in evaluation mode)."""
MUST_FAIL = ["test_batch_norm_eval"]
MUST_SAY = {"test_batch_norm_eval": ["batch's statistics"]}
_reference_batch_norm = batch_norm


def batch_norm(x, scale, bias, running_mean, running_var, training, momentum=0.99, eps=1e-5):
    y, new_mean, new_var = _reference_batch_norm(x, scale, bias, running_mean, running_var, True, momentum, eps)
    return (y, new_mean, new_var) if training else (y, running_mean, running_var)
