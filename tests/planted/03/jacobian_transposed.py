"""Returns the transposed Jacobian, (n, m): one row per input instead of one per output."""
MUST_FAIL = ["test_jacobian_and_hessian"]
MUST_SAY = {"test_jacobian_and_hessian": ["the transpose"]}


def jacobian_and_hessian(f, x):
    return jax.jacrev(f)(x).T, jax.hessian(f)(x)
