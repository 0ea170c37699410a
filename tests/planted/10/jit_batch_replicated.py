"""jit with the batch replicated (in_shardings P() for it): every device computes the whole batch."""
MUST_FAIL = ["test_jit_step_splits_the_batch_and_all_reduces"]
MUST_SAY = {"test_jit_step_splits_the_batch_and_all_reduces": ["no all-reduce", "replicated instead of split"]}


def make_jit_step(loss_fn, mesh):
    everywhere = NamedSharding(mesh, P())

    def step(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        return sgd_update(params, grads, lr), loss

    return jax.jit(step, in_shardings=(everywhere, everywhere, everywhere), out_shardings=everywhere)
