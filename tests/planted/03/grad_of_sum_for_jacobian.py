"""Takes jax.grad of sum(f) as the Jacobian: that is a vector of column sums, not the (m, n) matrix."""
MUST_FAIL = ["test_jacobian_and_hessian"]
MUST_SAY = {"test_jacobian_and_hessian": ["one row per output", "column sums"]}


def jacobian_and_hessian(f, x):
    return jax.grad(lambda x: jnp.sum(f(x)))(x), jax.hessian(f)(x)
