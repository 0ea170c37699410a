"""fit that caches its compiled run per shape in a global, closing over the first call's x, y and lr:
a later call with data of the same shapes trains on the first call's data."""
MUST_FAIL = ["test_fit_follows_sgd"]
MUST_SAY = {"test_fit_follows_sgd": ["first call"]}

_RUNS = {}


def fit(params, x, y, steps, lr, loss_fn):
    key = (x.shape, y.shape, steps)
    if key not in _RUNS:
        step = make_train_step(loss_fn)

        @jax.jit
        def run(params):
            return jax.lax.scan(lambda p, _: step(p, (x, y), lr), params, length=steps)

        _RUNS[key] = run
    return _RUNS[key](params)
