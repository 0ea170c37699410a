"""Training that is never compiled: an un-jitted step, run in a Python loop, traced on every step. The
mistake is make_train_step's: fit, a loop over make_train_step's step as its docstring allows, is judged
on the docstring's (jitted) make_train_step, so it is not charged for it."""
MUST_FAIL = ["test_train_step_traces_once"]
MUST_PASS = ["test_fit_traces_the_loss_at_most_twice", "test_fit_follows_sgd"]
MUST_SAY = {"test_train_step_traces_once": ["never wrapped"]}


def make_train_step(loss_fn):
    def step(params, batch, lr):
        x, y = batch
        loss, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        return sgd_update(params, grads, lr), loss

    return step


def fit(params, x, y, steps, lr, loss_fn):
    step = make_train_step(loss_fn)
    losses = []
    for _ in range(steps):
        params, loss = step(params, (x, y), lr)
        losses.append(loss)
    return params, jnp.stack(losses)
