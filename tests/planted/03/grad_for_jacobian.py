"""jax.grad of a vector function: JAX refuses, grad takes scalar functions only."""
MUST_FAIL = ["test_jacobian_and_hessian"]
MUST_SAY = {"test_jacobian_and_hessian": ["one scalar output", "vector"]}


def jacobian_and_hessian(f, x):
    return jax.grad(f)(x), jax.hessian(f)(x)
