"""pmap with no collective at all: every device reports its own block's loss and steps with its own gradient."""
MUST_FAIL = ["test_pmap_step_trains_like_one_device", "test_pmap_step_trains_the_mlp",
             "test_pmap_step_averages_on_the_given_devices"]
MUST_SAY = {"test_pmap_step_averages_on_the_given_devices": ["never combined"],
            "test_pmap_step_trains_like_one_device": ["its own block's gradient alone"]}


def make_pmap_step(loss_fn, devices):
    def one_device(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        return sgd_update(params, grads, lr), loss

    return jax.pmap(one_device, in_axes=(0, 0, None), devices=devices)
