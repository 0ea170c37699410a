"""Returns f itself: no compilation, the Python body runs on every call."""
MUST_FAIL = ["test_jit_with_static_n_traces_once"]
MUST_SAY = {"test_jit_with_static_n_traces_once": ["never compiled"]}


def jit_with_static_n(f):
    return f
