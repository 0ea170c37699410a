"""Re-creates jax.jit inside every call, closing over n with a new lambda: f is traced again on each call."""
MUST_FAIL = ["test_jit_with_static_n_traces_once"]
MUST_SAY = {"test_jit_with_static_n_traces_once": ["traced again", "same n"]}


def jit_with_static_n(f):
    def g(x, n):
        return jax.jit(lambda x: f(x, n))(x)

    return g
