"""Clamps x[start + 1:stop]: the slice starts one element late."""
MUST_FAIL = ["test_clamp_slice"]
MUST_SAY = {"test_clamp_slice": ["element 1 is inside the slice"]}


def clamp_slice(x, start, stop, lo, hi):
    return jnp.asarray(x).at[start + 1:stop].max(lo).at[start + 1:stop].min(hi)
