"""Chooses element by element in a Python comprehension with an `if` on each value: right outside jit,
a TracerBoolConversionError under it."""
MUST_FAIL = ["test_zero_negatives"]
MUST_SAY = {"test_zero_negatives": ["TracerBoolConversionError", "python `if`"]}


def zero_negatives(x):
    x = jnp.asarray(x)
    return jnp.stack([jnp.zeros_like(v) if v < 0 else v for v in x])
