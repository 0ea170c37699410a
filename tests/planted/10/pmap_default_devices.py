"""pmap without devices=: the step runs on JAX's default devices, not on the devices it was given."""
MUST_FAIL = ["test_pmap_step_averages_on_the_given_devices"]
MUST_SAY = {"test_pmap_step_averages_on_the_given_devices": ["default devices"]}


def make_pmap_step(loss_fn, devices):
    def one_device(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        return sgd_update(params, lax.pmean(grads, "d"), lr), lax.pmean(loss, "d")

    return jax.pmap(one_device, axis_name="d", in_axes=(0, 0, None))
