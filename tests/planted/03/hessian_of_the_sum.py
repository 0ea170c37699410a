"""Takes the Hessian of sum(f): one (n, n) matrix instead of one per output."""
MUST_FAIL = ["test_jacobian_and_hessian"]
MUST_SAY = {"test_jacobian_and_hessian": ["its own", "(2, 3, 3)"]}


def jacobian_and_hessian(f, x):
    return jax.jacfwd(f)(x), jax.hessian(lambda x: jnp.sum(f(x)))(x)
