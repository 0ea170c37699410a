"""rms_norm without eps: a row of zeros gives 0 / 0 = NaN."""
MUST_FAIL = ["test_rms_norm_small_inputs"]
MUST_SAY = {"test_rms_norm_small_inputs": ["NaN", "row of zeros"]}


def rms_norm(x, scale, eps=1e-6):
    return x / jnp.sqrt(jnp.mean(x ** 2, axis=-1, keepdims=True)) * scale
