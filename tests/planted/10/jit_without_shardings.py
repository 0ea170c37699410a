"""jit with no in_shardings or out_shardings: the NumPy inputs land on one device and the whole step
runs there; right numbers, no data parallelism."""
MUST_FAIL = ["test_jit_step_splits_the_batch_and_all_reduces"]
MUST_SAY = {"test_jit_step_splits_the_batch_and_all_reduces": ["ran on one device", "in_shardings"]}


def make_jit_step(loss_fn, mesh):
    def step(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        return sgd_update(params, grads, lr), loss

    return jax.jit(step)
