"""Fills indexes past the end with a fixed -1 (the README's example value) instead of the fill
argument."""
MUST_FAIL = ["test_lookup_or_fills_past_the_end"]
MUST_SAY = {"test_lookup_or_fills_past_the_end": ["every index past the end gave -1", "fill argument"]}


def lookup_or(x, idx, fill):
    return jnp.asarray(x).at[idx].get(mode="fill", fill_value=-1.0)
