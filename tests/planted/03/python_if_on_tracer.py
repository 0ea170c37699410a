"""A Python `if` on traced values: fails under jit (no concrete value to branch on)."""
MUST_FAIL = ["test_soft_threshold_under_jit"]
MUST_SAY = {"test_soft_threshold_under_jit": ["python `if`", "traced value"]}


def soft_threshold(x, t):
    out = []
    for v in x:
        if v > t:
            out.append(v - t)
        elif v < -t:
            out.append(v + t)
        else:
            out.append(0.0 * v)
    return jnp.stack(out)
