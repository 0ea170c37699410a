"""lookup_or returns NaN; everything else is right."""
BASE = "solution"
EXPECTED = 13


def lookup_or(x, idx, fill):
    return jnp.full(jnp.asarray(idx).shape, jnp.nan, jnp.float32)
