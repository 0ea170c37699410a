"""Returns f itself: no compilation, the Python body runs on every call."""
MUST_FAIL = ["test_jit_with_static_n_traces_once"]


def jit_with_static_n(f):
    return f
