"""Scales column `row` instead of row `row`: the wrong axis."""
MUST_FAIL = ["test_scale_row"]
MUST_SAY = {"test_scale_row": ["column 1 was scaled"]}


def scale_row(m, row, factor):
    return jnp.asarray(m).at[:, row].mul(factor)
