"""No collective at all: every device reports the statistics of its own row only."""
MUST_FAIL = ["test_device_totals_and_means"]


def device_totals_and_means(x, devices):
    return jax.pmap(lambda row: (jnp.sum(row), jnp.mean(row)), devices=devices)(x)
