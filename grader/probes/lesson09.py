"""Lesson 09 probes: every exercise on fresh random inputs of the public tests' shapes, called under
`jax.jit` with the same arguments traced as in the tests, compared with the reference at the tests'
tolerances. Only values are probed: whether a choice is a cond, a loop one scan, or the program the
same size for any length is read from the program by the public tests alone.

`newton_sqrt` is judged as its tests judge it: the root to the tolerance, and the number of updates
(within one, so that a condition written another way that rounds differently on a hidden input near
the border is not charged); and, exactly, the updates and root for an `a` just below and one just
above 1, where the start max(a, 1) matters and the border is far. `run_rnn` runs this module's own
cell, values and gradients through time. `echo_loss` runs with the docstrings' `elman_cell` and
`run_rnn` in place of the student's, as in the public test, so a mistake in those is charged to them
alone. `train` takes a few Adam steps on two hidden linear problems, and a whole run like the public one on a hidden echo task (hidden width, initial
weights, length, sequences, steps and learning rate): the grader computes the error on new sequences from
the params that come back, and the first loss from the params given. Unlike the public run, it never
stops when the loss is traced a third time: that is how train is written, which the public test judges.
"""
import jax
import jax.numpy as jnp
import numpy as np

from grader.learner import bounded_loops
from grader.learner.shared.lesson09 import on_documented
from grader.probes import Probes, compare, concerns, merge_findings

PROBES = Probes("09")
CLOSE = {"rtol": 1e-4, "atol": 1e-5}


def _normal(rng, *shape, scale=1.0):
    return (scale * rng.normal(size=shape)).astype(np.float32)


# -- choosing -------------------------------------------------------------------------------------

def _clip_inputs(rng):
    g = _normal(rng, 2, 3)
    norm = float(np.sqrt(np.sum(g.astype(np.float64) ** 2)))
    return {"g": g, "low": norm * float(rng.uniform(0.2, 0.8)), "high": norm * float(rng.uniform(1.2, 3.0))}


@PROBES("clip_norm", make=_clip_inputs, guards=("test_clip_norm",), rtol=1e-5, atol=1e-6)
def clip_norm(ex, g, low, high):
    clip = jax.jit(ex.clip_norm)
    return clip(g, low), clip(g, high)


@PROBES("activate", make=lambda rng: {"x": _normal(rng, 5, scale=2.0)}, guards=("test_activate",),
        rtol=1e-5, atol=1e-6)
def activate(ex, x):
    act = jax.jit(ex.activate)
    return [act(x, np.int32(kind)) for kind in range(3)]


# -- looping --------------------------------------------------------------------------------------

def _newton_inputs(rng):
    """Four cases: a small a, a middling one, a large one, and one that starts within the tolerance
    (x = a just above 1), each with its own tolerance."""
    tols = [float(10 ** -rng.uniform(3, 5)) for _ in range(4)]
    a = [10 ** rng.uniform(-2, -1), 10 ** rng.uniform(0.2, 1.5), 10 ** rng.uniform(2, 4),
         1.0 + rng.uniform(0.05, 0.5) * tols[3]]
    return {"a": np.array(a, np.float32), "tol": np.array(tols, np.float32)}


def _check_newton(got, want, inputs):
    if not isinstance(got, (list, tuple)) or len(got) != len(want):
        return "newton_sqrt should return a pair (root, steps) for each case"
    for i, ((root, steps), (_, want_steps)) in enumerate(zip(got, want)):
        if not isinstance(root, np.ndarray) and not np.isscalar(root):
            return "newton_sqrt should return a pair (root, steps)"
        root, steps = np.asarray(root), np.asarray(steps)
        a, tol = float(inputs["a"][i]), float(inputs["tol"][i])
        if root.shape != () or not np.isfinite(root) or abs(float(root) ** 2 - a) > 2 * tol * a:
            return concerns("the root does not meet the tolerance |x * x - a| <= tol * a", "test_newton_sqrt")
        want_steps = int(want_steps)
        if steps.shape != () or steps.dtype.kind not in "iu" or (
                abs(int(steps) - want_steps) > (0 if want_steps == 0 else 1)):
            return concerns("the number of updates is not where the loop reaches the tolerance",
                            "test_newton_sqrt_stops_at_the_tolerance")
    return None


@PROBES("newton_sqrt", make=_newton_inputs, check=_check_newton)
def newton_sqrt(ex, a, tol):
    newton = jax.jit(ex.newton_sqrt)
    return [tuple(newton(np.float32(a_i), np.float32(t_i))) for a_i, t_i in zip(a, tol)]


def _newton_start_inputs(rng):
    """Two cases where the start matters, one on each side of 1, both well inside their window: with a
    relative tolerance tol, a in [1 - tol, 1 / (1 + tol)) needs an update from x = max(a, 1) = 1 and none
    from x = a; a in (1 + tol, 1 / (1 - tol)] needs one from x = max(a, 1) = a and none from x = 1. Far
    from the windows' ends, every way of writing the condition counts alike."""
    tol = float(rng.uniform(0.05, 0.3))
    u, v = rng.uniform(0.3, 0.7, size=2)
    below = 1 - tol + u * (1 / (1 + tol) - (1 - tol))
    above = 1 + tol + v * (1 / (1 - tol) - (1 + tol))
    return {"a": np.array([below, above], np.float32), "tol": np.float32(tol)}


def _check_newton_start(got, want, inputs):
    if not isinstance(got, (list, tuple)) or len(got) != len(want):
        return "newton_sqrt should return a pair (root, steps) for each case"
    for (root, steps), (want_root, want_steps) in zip(got, want):
        steps = np.asarray(steps)
        if steps.shape != () or steps.dtype.kind not in "iu" or int(steps) != int(want_steps):
            return concerns("for an a near 1, the number of updates is not that of a loop started at max(a, 1)",
                            "test_newton_sqrt_stops_at_the_tolerance")
        if compare(root, want_root, rtol=2e-6, atol=0.0):
            return concerns("for an a near 1, the root is not that of the loop started at max(a, 1)",
                            "test_newton_sqrt_stops_at_the_tolerance")
    return None


@PROBES("newton_sqrt", make=_newton_start_inputs, check=_check_newton_start,
        guards=("test_newton_sqrt_stops_at_the_tolerance",))
def newton_sqrt_start(ex, a, tol):
    newton = jax.jit(ex.newton_sqrt)
    return [tuple(newton(np.float32(a_i), np.float32(tol))) for a_i in a]


NEWTON_CAP = 100  # MAX_NEWTON_STEPS


def _unreachable(a: np.float32) -> bool:
    """True when no float32 x near sqrt(a) has x * x equal to a, rounded to float32 or exactly."""
    x = np.float32(np.sqrt(np.float64(a)))
    near = [x]
    low = high = x
    for _ in range(64):
        low, high = np.nextafter(low, np.float32(0)), np.nextafter(high, np.float32(np.inf))
        near += [low, high]
    return all(np.float32(v * v) != a and np.float64(v) * np.float64(v) != np.float64(a) for v in near)


def _newton_cap_inputs(rng):
    """A tolerance no float32 x can meet: only the cap stops the loop."""
    while True:
        a = np.float32(10 ** rng.uniform(-1, 3))
        if _unreachable(a):
            return {"a": a, "tol": np.float32(10 ** -rng.uniform(18, 25))}


def _check_newton_cap(got, want, inputs):
    steps = got.get("steps") if isinstance(got, dict) else None
    if steps is None:
        return "the loop never stopped: a tolerance that can't be met must end at the cap of MAX_NEWTON_STEPS updates"
    steps = np.asarray(steps)
    if steps.shape != () or steps.dtype.kind not in "iu" or int(steps) != NEWTON_CAP:
        return "a tolerance that can't be met did not end the loop at exactly MAX_NEWTON_STEPS updates"
    return None


@PROBES("newton_sqrt", make=_newton_cap_inputs, check=_check_newton_cap, guards=("test_newton_sqrt_stops_at_the_cap",))
def newton_sqrt_cap(ex, a, tol):
    args = (np.float32(a), np.float32(tol))
    try:
        bounded_loops.run_bounded(ex.newton_sqrt, args, 4 * NEWTON_CAP)  # under jit it would never stop
    except bounded_loops.LoopRanOn:
        return {"steps": None}
    return {"steps": jax.jit(ex.newton_sqrt)(*args)[1]}


def _power_inputs(rng):
    return {"m": _normal(rng, 4, 4) + np.diag([3.0, 0, 0, 0]).astype(np.float32), "v": _normal(rng, 4),
            "n": int(rng.integers(0, 7))}


@PROBES("power_iteration", make=_power_inputs, **CLOSE)
def power_iteration(ex, m, v, n):
    return jax.jit(ex.power_iteration)(m, v, np.int32(n))


# -- state ----------------------------------------------------------------------------------------

def _check_init(got, want, inputs):
    for state, like in zip(got, want):
        if not isinstance(state, dict) or sorted(state) != ["count", "m2", "mean"]:
            return "init_stats should return a dict with the keys 'count', 'mean' and 'm2'"
        for key, dtype in (("count", np.int32), ("mean", np.float32), ("m2", np.float32)):
            value = np.asarray(state[key])
            if value.dtype != dtype or value.shape != np.shape(like[key]) or np.any(value != 0):
                return f"{key} should be {np.dtype(dtype)} zeros of shape {np.shape(like[key])}"
    return None


@PROBES("init_stats", make=lambda rng: {"ds": [int(d) for d in rng.integers(1, 40, size=3)]}, check=_check_init)
def init_stats(ex, ds):
    return [{k: np.asarray(v) for k, v in ex.init_stats(d).items()} for d in ds]


def _stats_inputs(rng):
    return {"state": {"count": np.int32(rng.integers(1, 9)), "mean": _normal(rng, 3), "m2": np.abs(_normal(rng, 3))},
            "x": _normal(rng, 3, scale=2.0)}


@PROBES("update_stats", make=_stats_inputs, guards=("test_update_stats",), rtol=1e-5, atol=1e-5)
def update_stats(ex, state, x):
    given = {k: np.array(v) for k, v in state.items()}
    return ex.update_stats(given, x), given


def _zero_state(d):
    return {"count": np.int32(0), "mean": np.zeros(d, np.float32), "m2": np.zeros(d, np.float32)}


@PROBES("update_stats", make=lambda rng: {"xs": _normal(rng, 4, 2)}, guards=("test_update_stats_passes_state_explicitly",),
        name="update_stats_chained")
def update_stats_chained(ex, xs):
    step, state, counts = jax.jit(ex.update_stats), _zero_state(2), []
    for x in xs:
        state = step(state, x)
        counts.append(np.asarray(state["count"]))
    return np.stack(counts)


@PROBES("update_stats", make=lambda rng: {"xs": _normal(rng, 16, 3, scale=2.0) + np.float32(rng.uniform(-5, 5))},
        guards=("test_update_stats_in_a_scan",), name="update_stats_scanned", rtol=1e-4, atol=1e-4)
def update_stats_scanned(ex, xs):
    state, _ = jax.jit(lambda s, xs: jax.lax.scan(lambda c, x: (ex.update_stats(c, x), None), s, xs))(_zero_state(3), xs)
    return ex.mean_and_var(state)


# -- scan -----------------------------------------------------------------------------------------

@PROBES("cumsum", make=lambda rng: {"xs": _normal(rng, 5, 3)}, guards=("test_cumsum",), rtol=1e-5, atol=1e-5)
def cumsum(ex, xs):
    return jax.jit(ex.cumsum)(xs)


@PROBES("ema", make=lambda rng: {"xs": _normal(rng, 6, 2), "alpha": np.float32(rng.uniform(0.1, 0.95)),
                                 "init": _normal(rng, 2)}, guards=("test_ema",), rtol=1e-5, atol=1e-5)
def ema(ex, xs, alpha, init):
    return jax.jit(ex.ema)(xs, alpha, init)


# -- cells and run_rnn ----------------------------------------------------------------------------

def _gate(rng, d_in=3, d_h=4):
    return {"wx": _normal(rng, d_in, d_h, scale=0.7), "wh": _normal(rng, d_h, d_h, scale=0.7), "b": _normal(rng, d_h, scale=0.3)}


def _cell_inputs(rng, gru=False):
    params = {name: _gate(rng) for name in "zrn"} if gru else _gate(rng)
    return {"params": params, "h": _normal(rng, 4), "x": _normal(rng, 3), "hb": _normal(rng, 5, 4),
            "xb": _normal(rng, 5, 3)}


@PROBES("elman_cell", make=_cell_inputs, **CLOSE)
def elman_cell(ex, params, h, x, hb, xb):
    cell = jax.jit(ex.elman_cell)
    return cell(params, h, x), cell(params, hb, xb)


@PROBES("gru_cell", make=lambda rng: _cell_inputs(rng, gru=True), guards=("test_gru_cell",), **CLOSE)
def gru_cell(ex, params, h, x, hb, xb):
    cell = jax.jit(ex.gru_cell)
    return cell(params, h, x), cell(params, hb, xb)


@PROBES("gru_cell", make=lambda rng: {"params": {name: _gate(rng) for name in "zrn"}, "xs": _normal(rng, 6, 2, 3)},
        guards=("test_gru_cell_over_a_sequence",), name="gru_cell_over_a_sequence", **CLOSE)
def gru_cell_over_a_sequence(ex, params, xs):
    h0 = np.zeros((2, 4), np.float32)
    return jax.jit(lambda p, h, xs: jax.lax.scan(lambda c, x: (ex.gru_cell(p, c, x),) * 2, h, xs))(params, h0, xs)[1]


def _probe_cell(p, h, x):
    """This module's own cell (a leaky Elman cell), so run_rnn is judged on its own."""
    return 0.5 * h + 0.5 * jnp.tanh(x @ p["wx"] + h @ p["wh"] + p["b"])


def _run_inputs(rng):
    return {"params": _gate(rng), "h0": _normal(rng, 2, 4, scale=0.5), "xs": _normal(rng, 7, 2, 3),
            "weights": _normal(rng, 2, 4)}


@PROBES("run_rnn", make=_run_inputs, guards=("test_run_rnn",), **CLOSE)
def run_rnn(ex, params, h0, xs, weights):
    h_last, hs = jax.jit(ex.run_rnn, static_argnums=0)(_probe_cell, params, h0, xs)
    return {"h_last": h_last, "hs": hs}


@PROBES("run_rnn", make=_run_inputs, guards=("test_run_rnn_gradients_through_time",), name="run_rnn_gradients",
        **CLOSE)
def run_rnn_gradients(ex, params, h0, xs, weights):
    def loss(p, h):
        out = ex.run_rnn(_probe_cell, p, h, xs)
        h_last = out[0] if jnp.shape(out[0]) == h.shape else out[1]
        return jnp.sum(h_last * weights)
    return jax.jit(jax.grad(loss, argnums=(0, 1)))(params, h0)


# -- the echo task and train ----------------------------------------------------------------------

def _echo_inputs(rng):
    xs = _normal(rng, 3, 5, 1)
    ys = np.zeros_like(xs)
    ys[:, 2:] = xs[:, :-2]
    return {"params": {"cell": _gate(rng, d_in=1), "out": {"w": _normal(rng, 4, 1, scale=0.5),
                                                          "b": _normal(rng, 1, scale=0.2)}},
            "xs": xs, "ys": ys}


@PROBES("echo_loss", make=_echo_inputs, rtol=1e-4, atol=1e-6)
def echo_loss(ex, params, xs, ys):
    """Run with the docstrings' elman_cell and run_rnn in place of the student's, as in the public test."""
    with on_documented(ex):
        return jax.jit(ex.echo_loss)(params, xs, ys)


def _scaled_linear_loss(scale):
    def loss_fn(params, xs, ys):
        return scale * jnp.mean((xs @ params["w"] + params["b"] - ys) ** 2)
    return loss_fn


def _train_inputs(rng):
    return {"params": {"w": _normal(rng, 3, 1), "b": np.zeros((1,), np.float32)}, "scale": float(rng.uniform(0.5, 2.0)),
            "data": [(_normal(rng, 8, 3), _normal(rng, 8, 1), float(rng.uniform(0.01, 0.2))) for _ in range(2)]}


@PROBES("train", make=_train_inputs, guards=("test_train_follows_adam",), **CLOSE)
def train(ex, params, scale, data):
    loss_fn = _scaled_linear_loss(scale)
    return [ex.train(loss_fn, params, xs, ys, 3, lr) for xs, ys, lr in data]


# -- train, a whole run on a hidden echo task -------------------------------------------------------

ECHO_MAX_MSE = 0.05  # the public run's bound on new sequences
ECHO_DELAY = 2
ECHO_RUN = "test_train_echo"
ECHO_LOSSES = "test_train_echo_losses"


def _echo_loss(params, xs, ys):
    """The probe's own echo loss (an Elman cell and lax.scan), so that train is judged on its own."""
    cell = params["cell"]
    h0 = jnp.zeros((xs.shape[0], cell["wh"].shape[0]), jnp.float32)
    _, hs = jax.lax.scan(lambda h, x: (jnp.tanh(x @ cell["wx"] + h @ cell["wh"] + cell["b"]),) * 2, h0,
                         jnp.swapaxes(xs, 0, 1))
    return jnp.mean((hs @ params["out"]["w"] + params["out"]["b"] - jnp.swapaxes(ys, 0, 1)) ** 2)


def _np_echo_loss(params, xs, ys) -> float:
    """The same loss in float64 NumPy, on the grader's side."""
    cell = {k: np.asarray(v, np.float64) for k, v in params["cell"].items()}
    w, b = (np.asarray(params["out"][k], np.float64) for k in ("w", "b"))
    h = np.zeros((xs.shape[0], cell["wh"].shape[0]))
    errors = []
    for t in range(xs.shape[1]):
        h = np.tanh(xs[:, t] @ cell["wx"] + h @ cell["wh"] + cell["b"])
        errors.append(h @ w + b - ys[:, t])
    return float(np.mean(np.stack(errors, axis=1) ** 2))


def _echo_data(rng, batch, steps):
    xs = _normal(rng, batch, steps, 1)
    ys = np.zeros_like(xs)
    ys[:, ECHO_DELAY:] = xs[:, :-ECHO_DELAY]
    return xs, ys


def _echo_run_inputs(rng):
    """The public run's kind with hidden numbers: a hidden width and initial weights, hidden sequences of a
    hidden length (and new ones to test on), hidden steps and learning rate."""
    d, length = int(rng.integers(12, 17)), int(rng.integers(8, 13))
    params = {"cell": {"wx": _normal(rng, 1, d), "wh": _normal(rng, d, d, scale=1 / np.sqrt(d)),
                       "b": np.zeros(d, np.float32)},
              "out": {"w": _normal(rng, d, 1, scale=1 / np.sqrt(d)), "b": np.zeros(1, np.float32)}}
    xs, ys = _echo_data(rng, 64, length)
    x_test, y_test = _echo_data(rng, 128, length)
    return {"params": params, "xs": xs, "ys": ys, "x_test": x_test, "y_test": y_test,
            "steps": int(rng.integers(180, 221)), "lr": float(rng.uniform(0.025, 0.035))}


def _same_layout(params, like) -> bool:
    if isinstance(like, dict):
        return isinstance(params, dict) and set(params) == set(like) and all(
            _same_layout(params[k], like[k]) for k in like)
    return np.shape(params) == np.shape(like)


def _check_echo_params(params, want_params, inputs):
    """The mean squared error on new sequences, computed here from the returned params: at most the public
    bound, or twice the reference's where the hidden run keeps the reference above it."""
    if not _same_layout(params, inputs["params"]):
        return concerns("the returned params are not shaped like the params given", ECHO_RUN)
    error = _np_echo_loss(params, inputs["x_test"], inputs["y_test"])
    bound = max(ECHO_MAX_MSE, 2 * _np_echo_loss(want_params, inputs["x_test"], inputs["y_test"]))
    if np.isfinite(error) and error <= bound:
        return None
    return concerns(f"after train(loss_fn, params, xs, ys, steps={inputs['steps']}, lr={inputs['lr']:.3g}) on a hidden "
                    f"echo task, the returned params give mean squared error {error:.3g} on new sequences, not at most "
                    f"{bound:.3g}: each step must start from the params and Adam state the last one returned",
                    ECHO_RUN)


def _check_echo_losses(losses, inputs):
    """The public test's demands of the losses: float32 of shape (steps,), the first the loss of the params
    given (computed here)."""
    losses, steps = np.asarray(losses), inputs["steps"]
    if losses.shape != (steps,) or losses.dtype != np.float32:
        return concerns(f"the losses are {losses.dtype} of shape {losses.shape}, not float32 of shape ({steps},): one "
                        "loss per step", ECHO_LOSSES)
    first = _np_echo_loss(inputs["params"], inputs["xs"], inputs["ys"])
    if not np.isclose(losses[0], first, rtol=1e-4, atol=1e-6):
        return concerns("losses[0] is not the loss of the params given, before any update", ECHO_LOSSES)
    return None


def _check_echo_run(got, want, inputs):
    if not isinstance(got, dict) or got.get("params") is None:
        return "train should return a pair (params, losses)"
    found = [_check_echo_params(got["params"], want["params"], inputs), _check_echo_losses(got["losses"], inputs)]
    return merge_findings([f for f in found if f])


@PROBES("train", make=_echo_run_inputs, check=_check_echo_run, guards=(ECHO_RUN, ECHO_LOSSES))
def train_echo(ex, params, xs, ys, x_test, y_test, steps, lr):
    out = ex.train(_echo_loss, params, xs, ys, steps, lr)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return {"params": None, "losses": None}
    return {"params": out[0], "losses": out[1]}
