"""jax.jit(f) with no static argument: n is traced, and range(n) in f has no concrete int."""
MUST_FAIL = ["test_jit_with_static_n_traces_once"]
MUST_SAY = {"test_jit_with_static_n_traces_once": ["n was traced", "static argument"]}


def jit_with_static_n(f):
    return jax.jit(f)
