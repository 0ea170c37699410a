"""fit that caches its compiled run per shape of x and y, taking x, y and lr as arguments but closing
over the first call's number of steps: right for new data and a new lr, wrong for a new number of steps."""
MUST_FAIL = ["test_fit_follows_sgd"]
MUST_SAY = {"test_fit_follows_sgd": ["asked for 2 steps", "reused an earlier run"]}

_RUNS = {}


def fit(params, x, y, steps, lr, loss_fn):
    key = (x.shape, y.shape)
    if key not in _RUNS:
        step = make_train_step(loss_fn)

        @jax.jit
        def run(params, x, y, lr):
            return jax.lax.scan(lambda p, _: step(p, (x, y), lr), params, length=steps)

        _RUNS[key] = run
    return _RUNS[key](params, x, y, lr)
