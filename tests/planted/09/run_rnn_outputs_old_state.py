"""run_rnn outputting the state before each step instead of after it."""
MUST_FAIL = ["test_run_rnn"]
MUST_SAY = {"test_run_rnn": ["before reading"]}
# The exercises built on this one are judged on its docstring's version: they pass.
MUST_PASS = ["test_echo_loss"]


def run_rnn(cell, params, h0, xs):
    return lax.scan(lambda h, x: (cell(params, h, x), h), h0, xs)
