"""power_iteration looping from 0 to n inclusive: one step too many."""
MUST_FAIL = ["test_power_iteration"]
MUST_SAY = {"test_power_iteration": ["one too many"]}


def power_iteration(m, v, n):
    def step(i, u):
        w = m @ u
        return w / jnp.linalg.norm(w)

    return lax.fori_loop(0, n + 1, step, v)
