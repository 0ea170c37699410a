"""cumsum with a Python loop over the steps: right values, a program that grows with the length."""
MUST_FAIL = ["test_cumsum_uses_scan"]
MUST_SAY = {"test_cumsum_uses_scan": ["no scan"]}


def cumsum(xs):
    total, out = jnp.zeros_like(xs[0]), []
    for t in range(xs.shape[0]):
        total = total + xs[t]
        out.append(total)
    return jnp.stack(out)
