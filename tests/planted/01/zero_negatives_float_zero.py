"""Writes a Python 0.0 where the negatives were: an int array comes back as float32."""
MUST_FAIL = ["test_zero_negatives"]
MUST_SAY = {"test_zero_negatives": ["int32 input came back as float32"]}


def zero_negatives(x):
    x = jnp.asarray(x)
    return jnp.where(x < 0, 0.0, x)
