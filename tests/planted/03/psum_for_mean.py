"""Uses lax.psum where lax.pmean was asked: the "mean" is 8 times too big."""
MUST_FAIL = ["test_device_totals_and_means"]
MUST_SAY = {"test_device_totals_and_means": ["added across the devices, not averaged"]}


def device_totals_and_means(x, devices):
    def on_one_device(row):
        return lax.psum(jnp.sum(row), "i"), lax.psum(jnp.mean(row), "i")

    return jax.pmap(on_one_device, axis_name="i", devices=devices)(x)
