"""lax.fori_loop(1, n, ...): the loop runs n - 1 steps, not n."""
MUST_FAIL = ["test_collatz_after_under_jit"]
MUST_SAY = {"test_collatz_after_under_jit": ["one step too few"]}


def collatz_after(x, n):
    def step(i, v):
        return lax.cond(v % 2 == 0, lambda u: u // 2, lambda u: 3 * u + 1, v)

    return lax.fori_loop(1, n, step, x)
