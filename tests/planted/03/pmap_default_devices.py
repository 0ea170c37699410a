"""pmap without devices=: it runs on JAX's default devices, not on the devices it was given."""
MUST_FAIL = ["test_device_totals_and_means_runs_on_each_device"]
MUST_SAY = {"test_device_totals_and_means_runs_on_each_device": ["default devices"]}


def device_totals_and_means(x, devices):
    def on_one_device(row):
        return lax.psum(jnp.sum(row), "d"), lax.pmean(jnp.mean(row), "d")

    return jax.pmap(on_one_device, axis_name="d")(x)
