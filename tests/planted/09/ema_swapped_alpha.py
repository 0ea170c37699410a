"""ema weighting the new value by alpha and the old average by 1 - alpha."""
MUST_FAIL = ["test_ema"]
MUST_SAY = {"test_ema": ["other way round"]}


def ema(xs, alpha, init):
    def step(m, x):
        m = (1 - alpha) * m + alpha * x
        return m, m

    return lax.scan(step, init, xs)[1]
