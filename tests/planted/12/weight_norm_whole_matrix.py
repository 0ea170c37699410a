"""weight_norm divides v by the norm of the whole matrix, not one norm per output column. The gradient
test fails too (same exercise) and points back to test_weight_norm; weight_norm_dense runs on the
docstring's weight_norm."""
MUST_FAIL = ["test_weight_norm", "test_weight_norm_gradient"]
MUST_SAY = {"test_weight_norm": ["the whole matrix's norm"], "test_weight_norm_gradient": ["test_weight_norm"]}
MUST_PASS = ["test_weight_norm_dense"]


def weight_norm(v, g):
    return g * v / jnp.sqrt(jnp.sum(v * v))
