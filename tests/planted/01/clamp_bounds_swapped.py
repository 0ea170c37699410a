"""Confuses .min and .max: lowers to lo first, then raises to hi, so every clamped element becomes hi."""
MUST_FAIL = ["test_clamp_slice"]
MUST_SAY = {"test_clamp_slice": ["swapped"]}


def clamp_slice(x, start, stop, lo, hi):
    return jnp.asarray(x).at[start:stop].min(lo).at[start:stop].max(hi)
