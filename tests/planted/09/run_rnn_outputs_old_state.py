"""run_rnn outputting the state before each step instead of after it."""
MUST_FAIL = ["test_run_rnn"]
MUST_SAY = {"test_run_rnn": ["before reading"]}


def run_rnn(cell, params, h0, xs):
    return lax.scan(lambda h, x: (cell(params, h, x), h), h0, xs)
