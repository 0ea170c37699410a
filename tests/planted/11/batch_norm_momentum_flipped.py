"""batch_norm's running averages keep (1 - momentum) of their old value and take momentum of the batch's."""
MUST_FAIL = ["test_batch_norm_running_averages"]
MUST_SAY = {"test_batch_norm_running_averages": ["momentum weighs the wrong side"]}
_reference_batch_norm = batch_norm


def batch_norm(x, scale, bias, running_mean, running_var, training, momentum=0.99, eps=1e-5):
    return _reference_batch_norm(x, scale, bias, running_mean, running_var, training, 1 - momentum, eps)
