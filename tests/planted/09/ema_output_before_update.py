"""ema outputting the average before each step's update."""
MUST_FAIL = ["test_ema"]
MUST_SAY = {"test_ema": ["before step t"]}


def ema(xs, alpha, init):
    return lax.scan(lambda m, x: (alpha * m + (1 - alpha) * x, m), init, xs)[1]
