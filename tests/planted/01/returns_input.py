"""Returns the input unchanged instead of the updated copy."""
MUST_FAIL = ["test_set_first"]


def set_first(x, value):
    x.at[0].set(value)
    return x
