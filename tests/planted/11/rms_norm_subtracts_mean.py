"""rms_norm centres each row first, which makes it layer norm without a bias."""
MUST_FAIL = ["test_rms_norm"]
MUST_SAY = {"test_rms_norm": ["mean was subtracted"]}


def rms_norm(x, scale, eps=1e-6):
    centred = x - jnp.mean(x, axis=-1, keepdims=True)
    return centred / jnp.sqrt(jnp.mean(centred ** 2, axis=-1, keepdims=True) + eps) * scale
