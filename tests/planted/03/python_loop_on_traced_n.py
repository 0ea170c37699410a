"""A Python for loop over range(n) with a traced n (and a Python `if` on the traced value)."""
MUST_FAIL = ["test_collatz_after_under_jit"]
MUST_SAY = {"test_collatz_after_under_jit": ["range(n)", "traced n"]}


def collatz_after(x, n):
    for _ in range(n):
        x = x // 2 if x % 2 == 0 else 3 * x + 1
    return x
