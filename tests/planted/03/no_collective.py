"""No collective at all: every device reports the statistics of its own row only."""
MUST_FAIL = ["test_device_totals_and_means", "test_device_totals_and_means_runs_on_each_device"]
MUST_SAY = {"test_device_totals_and_means": ["its own row"],
            "test_device_totals_and_means_runs_on_each_device": ["not computed by the devices together"]}


def device_totals_and_means(x, devices):
    return jax.pmap(lambda row: (jnp.sum(row), jnp.mean(row)), devices=devices)(x)
