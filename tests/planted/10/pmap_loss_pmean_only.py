"""pmap: the loss is averaged across devices, the gradients are not: each device steps with its own
block's gradient and the copies of the params drift apart."""
MUST_FAIL = ["test_pmap_step_trains_like_one_device", "test_pmap_step_trains_the_mlp"]
MUST_SAY = {"test_pmap_step_trains_like_one_device": ["own block", "not averaged"]}


def make_pmap_step(loss_fn, devices):
    def one_device(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        return sgd_update(params, grads, lr), lax.pmean(loss, "d")

    return jax.pmap(one_device, axis_name="d", in_axes=(0, 0, None), devices=devices)
