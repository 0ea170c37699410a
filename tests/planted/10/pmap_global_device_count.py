"""pmap's gradients and loss summed and divided by ALL of JAX's devices (jax.device_count()), not by
the devices the step was given: right on every device, a step too short on fewer."""
MUST_FAIL = ["test_pmap_step_trains_the_mlp"]
MUST_SAY = {"test_pmap_step_trains_the_mlp": ["count of all of JAX's devices"]}


def make_pmap_step(loss_fn, devices):
    def one_device(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        grads = jax.tree.map(lambda g: lax.psum(g, "d") / jax.device_count(), grads)
        return sgd_update(params, grads, lr), lax.psum(loss, "d") / jax.device_count()

    return jax.pmap(one_device, axis_name="d", in_axes=(0, 0, None), devices=devices)
