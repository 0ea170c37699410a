"""Calls tick() as plain Python: under jit it runs once, while tracing, not on every call."""
MUST_FAIL = ["test_double_and_tick_counts_every_run"]
MUST_SAY = {"test_double_and_tick_counts_every_run": ["ran once, while jit traced"]}


def double_and_tick(x, tick):
    tick()
    return 2 * x
