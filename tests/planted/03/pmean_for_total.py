"""Uses lax.pmean for the total: the "total" is the average row sum, 8 times too small."""
MUST_FAIL = ["test_device_totals_and_means"]
MUST_SAY = {"test_device_totals_and_means": ["averaged across the devices, not added"]}


def device_totals_and_means(x, devices):
    def on_one_device(row):
        return lax.pmean(jnp.sum(row), "d"), lax.pmean(jnp.mean(row), "d")

    return jax.pmap(on_one_device, axis_name="d", devices=devices)(x)
