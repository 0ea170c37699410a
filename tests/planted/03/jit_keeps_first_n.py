"""Builds the jit once, closing over the first call's n: later calls with another n reuse it."""
MUST_FAIL = ["test_jit_with_static_n_traces_once"]
MUST_SAY = {"test_jit_with_static_n_traces_once": ["kept the first n"]}


def jit_with_static_n(f):
    compiled = {}

    def g(x, n):
        if "f" not in compiled:
            compiled["f"] = jax.jit(lambda x: f(x, n))
        return compiled["f"](x)

    return g
