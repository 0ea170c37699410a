"""pmap names its axis "i" but the collectives say "devices": JAX stops at the unbound axis name."""
MUST_FAIL = ["test_device_totals_and_means", "test_device_totals_and_means_runs_on_each_device"]
MUST_SAY = {"test_device_totals_and_means": ["named an axis that the pmap did not define"]}


def device_totals_and_means(x, devices):
    def on_one_device(row):
        return lax.psum(jnp.sum(row), "devices"), lax.pmean(jnp.mean(row), "devices")

    return jax.pmap(on_one_device, axis_name="i", devices=devices)(x)
