"""power_iteration with `for _ in range(n)` on the traced n: fails under jit."""
MUST_FAIL = ["test_power_iteration"]
MUST_SAY = {"test_power_iteration": ["range()", "fori_loop"]}


def power_iteration(m, v, n):
    for _ in range(n):
        w = m @ v
        v = w / jnp.linalg.norm(w)
    return v
