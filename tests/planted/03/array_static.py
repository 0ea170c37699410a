"""Marks the array argument static as well: arrays are not hashable, so jit refuses to use them as static."""
MUST_FAIL = ["test_jit_with_static_n_traces_once"]
MUST_SAY = {"test_jit_with_static_n_traces_once": ["marked static", "hashable"]}


def jit_with_static_n(f):
    return jax.jit(f, static_argnums=(0, 1))
