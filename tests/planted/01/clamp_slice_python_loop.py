"""Clamps element by element with a Python `if` on the values: fine on concrete arrays, impossible
under jax.jit, where the values are traced."""
MUST_FAIL = ["test_clamp_slice"]
MUST_SAY = {"test_clamp_slice": ["TracerBoolConversionError", "python `if`"]}


def clamp_slice(x, start, stop, lo, hi):
    x = jnp.asarray(x)
    for k in range(start, stop):
        if x[k] < lo:
            x = x.at[k].set(lo)
        elif x[k] > hi:
            x = x.at[k].set(hi)
    return x
