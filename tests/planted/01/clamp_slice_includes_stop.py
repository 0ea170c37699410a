"""Clamps x[start:stop + 1]: the slice taken one too long, as if stop were included."""
MUST_FAIL = ["test_clamp_slice"]
MUST_SAY = {"test_clamp_slice": ["element 5 lies outside"]}


def clamp_slice(x, start, stop, lo, hi):
    return jnp.asarray(x).at[start:stop + 1].max(lo).at[start:stop + 1].min(hi)
