"""pmap: lax.psum where lax.pmean was asked: the gradients are added, and the step is 8 times too long."""
MUST_FAIL = ["test_pmap_step_trains_like_one_device", "test_pmap_step_trains_the_mlp"]
MUST_SAY = {"test_pmap_step_trains_like_one_device": ["8 times as far", "added up"]}


def make_pmap_step(loss_fn, devices):
    def one_device(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        return sgd_update(params, lax.psum(grads, "d"), lr), lax.pmean(loss, "d")

    return jax.pmap(one_device, axis_name="d", in_axes=(0, 0, None), devices=devices)
