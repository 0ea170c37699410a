"""Lesson 03 tests: grad, jit, vmap, pmap, shard_map and stop_gradient.

Most tests run your function under `jax.jit`, the way real code uses it. The expected values are
worked out with NumPy, by hand-derived formulas, so no test trusts JAX to check JAX.
"""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh

from grader import expect

RNG = np.random.default_rng(3)
N, D = 8, 3  # one shape for every batch in this file: fewer compiles, faster runs
X = RNG.normal(size=(N, D)).astype(np.float32)
Y = RNG.normal(size=N).astype(np.float32)
W = RNG.normal(size=D).astype(np.float32)
B = np.float32(0.25)
X_NEXT = RNG.normal(size=(N, D)).astype(np.float32)


def _cpu8():
    return jax.devices("cpu")[:8]


class _Label(str):
    """Text that shows up as written (no quotes) in a failure message's call line."""

    def __repr__(self):
        return str(self)


_CONCRETE_VALUE_ERRORS = (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError,
                          jax.errors.TracerArrayConversionError)


def _run(name, fn, *args):
    """fn(*args), turning the errors this lesson is about into one-line messages that teach."""
    __tracebackhide__ = True
    try:
        return fn(*args)
    except _CONCRETE_VALUE_ERRORS as err:
        problem, hint = err, ("under jit the inputs are tracers with no concrete value: a Python `if`, "
                              "`range(n)`, int() or float() on them fails. Use jnp.where, lax.cond or lax.fori_loop.")
    except ValueError as err:
        text = str(err)
        if text.startswith("vmap"):
            problem, hint = err, ("in_axes says which argument is batched and along which axis: "
                                  "0 for xs and ys, None for the shared w and b.")
        elif "Non-hashable static arguments" in text:
            problem, hint = err, "only hashable Python values (ints, strings, tuples) can be static; arrays can't."
        else:
            raise
    raise expect.failure(f"{name} (under a JAX transformation)", "a result",
                         f"{type(problem).__name__}: {str(problem).splitlines()[0]}", hint) from None


# ---------------------------------------------------------------------------------------------
# grad: argnums, has_aux, value_and_grad
# ---------------------------------------------------------------------------------------------

@pytest.mark.exercise("loss_preds_and_grads", points=3)
def test_loss_preds_and_grads(ex):
    got = _run("loss_preds_and_grads", jax.jit(ex.loss_preds_and_grads), W, B, X, Y)
    preds = X.astype(np.float64) @ W + B
    r = preds - Y
    want = ((np.float32(np.mean(r ** 2)), preds.astype(np.float32)),
            ((2 / N * X.T @ r).astype(np.float32), np.float32(2 * np.mean(r))))
    expect.close(got, want, rtol=1e-4, atol=1e-5, call=expect.call("loss_preds_and_grads", W, B, X, Y),
                 hint="jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True) returns "
                      "((loss, preds), (dw, db)) when loss_fn returns (loss, preds).")


# ---------------------------------------------------------------------------------------------
# jacfwd, jacrev, hessian
# ---------------------------------------------------------------------------------------------

def _scaled_head(x):
    """f: (3,) -> (2,), f(x) = x[:2] * |x|^2."""
    return x[:2] * jnp.sum(x ** 2)


@pytest.mark.exercise("jacobian_and_hessian", points=2)
def test_jacobian_and_hessian(ex):
    x = W
    got = _run("jacobian_and_hessian", jax.jit(lambda x: ex.jacobian_and_hessian(_scaled_head, x)), x)
    x64, eye = x.astype(np.float64), np.eye(D)
    e = eye[:2]
    jac = e * np.sum(x64 ** 2) + 2 * x64[:2, None] * x64[None, :]
    hess = 2 * (e[:, :, None] * x64[None, None, :] + e[:, None, :] * x64[None, :, None]
                + x64[:2, None, None] * eye[None])
    expect.close(got, (jac.astype(np.float32), hess.astype(np.float32)), rtol=1e-4, atol=1e-5,
                 call=expect.call("jacobian_and_hessian", _Label("f: x -> x[:2] * sum(x**2)"), x),
                 hint="J = jax.jacfwd(f)(x) has shape (m, n); H = jax.hessian(f)(x) has shape (m, n, n).")


# ---------------------------------------------------------------------------------------------
# jit with a static argument: one trace for many calls
# ---------------------------------------------------------------------------------------------

@pytest.mark.exercise("jit_with_static_n", points=3)
def test_jit_with_static_n_traces_once(ex):
    runs_of_body = []

    @chex.assert_max_traces(n=1)
    def power_sum(x, n):
        """1 + x + x**2 + ... + x**n, with a Python loop over range(n)."""
        runs_of_body.append(n)
        term = total = jnp.ones_like(x)
        for _ in range(n):
            term = term * x
            total = total + term
        return total

    g = ex.jit_with_static_n(power_sum)
    call = "g = jit_with_static_n(power_sum); g(x, 3) three times with new x"
    try:
        outs = [_run("jit_with_static_n(power_sum)", g, X[i], 3) for i in range(3)]
    except AssertionError as err:
        if "traced >" not in str(err):
            raise
        raise expect.failure(call, "power_sum traced once, then reused", "power_sum traced again on a later call",
                             "return jax.jit(f, static_argnums=1) (or static_argnames='n') once; do not build "
                             "a new jit or a new lambda inside every call.") from None
    for i, got in enumerate(outs):
        x = X[i].astype(np.float64)
        expect.close(got, (1 + x + x ** 2 + x ** 3).astype(np.float32), rtol=1e-4, atol=1e-5,
                     call=f"g(x={X[i]}, 3) with g = jit_with_static_n(power_sum)")
    expect.that(len(runs_of_body) == 1, call=call,
                expected="power_sum's Python body to run once (traced once, then the compiled code runs)",
                returned=f"it ran {len(runs_of_body)} times",
                hint="wrap f with jax.jit(...) so that calls run the compiled program instead of the Python.")


# ---------------------------------------------------------------------------------------------
# purity: a side effect runs when tracing, not when running
# ---------------------------------------------------------------------------------------------

@pytest.mark.exercise("double_and_tick", points=2)
def test_double_and_tick_counts_every_run(ex):
    ticks = []

    def tick():
        ticks.append(1)

    f = jax.jit(lambda x: ex.double_and_tick(x, tick))
    outs = [_run("double_and_tick", f, X[i]) for i in range(3)]
    jax.block_until_ready(outs)
    jax.effects_barrier()
    for i, got in enumerate(outs):
        expect.close(got, 2 * X[i], call=expect.call("double_and_tick", X[i], _Label("tick")))
    expect.that(len(ticks) == 3, call="jax.jit(lambda x: double_and_tick(x, tick)) three times",
                expected="tick() called 3 times, once per run", returned=f"tick() called {len(ticks)} times",
                hint="a plain Python call runs only while jit traces; jax.debug.callback(tick) runs on every call.")


# ---------------------------------------------------------------------------------------------
# control flow under jit
# ---------------------------------------------------------------------------------------------

@pytest.mark.exercise("soft_threshold", points=2)
def test_soft_threshold_under_jit(ex):
    x = np.array([-2.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.5, 3.0], np.float32)
    t = np.float32(0.5)
    got = _run("soft_threshold", jax.jit(ex.soft_threshold), x, t)
    want = np.where(x > t, x - t, np.where(x < -t, x + t, 0))
    expect.close(got, want.astype(np.float32), call=expect.call("soft_threshold", x, t),
                 hint="three cases per element: jnp.where(x > t, x - t, jnp.where(x < -t, x + t, 0.0)).")


def _collatz(x, n):
    for _ in range(n):
        x = x // 2 if x % 2 == 0 else 3 * x + 1
    return x


@pytest.mark.exercise("collatz_after", points=2)
def test_collatz_after_under_jit(ex):
    f = jax.jit(ex.collatz_after)
    for x, n in [(6, 0), (6, 1), (7, 5), (27, 12)]:
        got = _run("collatz_after", f, np.int32(x), np.int32(n))
        expect.equal(got, np.int32(_collatz(x, n)), call=expect.call("collatz_after", np.int32(x), np.int32(n)),
                     hint="lax.fori_loop(0, n, body, x) with body(i, v) choosing v // 2 or 3 * v + 1 "
                          "by lax.cond(v % 2 == 0, ...) or jnp.where; keep the int32 dtype.")


# ---------------------------------------------------------------------------------------------
# vmap with in_axes
# ---------------------------------------------------------------------------------------------

@pytest.mark.exercise("per_example_grads", points=2)
def test_per_example_grads(ex):
    got = _run("per_example_grads", jax.jit(ex.per_example_grads), W, B, X, Y)
    r = X.astype(np.float64) @ W + B - Y
    want = ((2 * r[:, None] * X).astype(np.float32), (2 * r).astype(np.float32))
    expect.close(got, want, rtol=1e-4, atol=1e-5, call=expect.call("per_example_grads", W, B, X, Y),
                 hint="jax.vmap(jax.grad(example_loss, argnums=(0, 1)), in_axes=(None, None, 0, 0)).")


@pytest.mark.exercise("per_example_grads", points=2)
def test_per_example_grads_uses_vmap(ex):
    sizes = {}
    for batch in (2, N):
        jaxpr = _run("per_example_grads", jax.make_jaxpr(ex.per_example_grads), W, B, X[:batch], Y[:batch])
        sizes[batch] = len(jaxpr.eqns)
    expect.that(sizes[2] == sizes[N], call="jax.make_jaxpr(per_example_grads) for batches of 2 and 8 examples",
                expected="the same program size for both batches (vmap traces one example once)",
                returned=f"{sizes[2]} operations for 2 examples, {sizes[N]} for 8",
                hint="a Python loop over the examples writes the work out once per example; jax.vmap does not.")


# ---------------------------------------------------------------------------------------------
# pmap with psum / pmean
# ---------------------------------------------------------------------------------------------

@pytest.mark.exercise("device_totals_and_means", points=3)
def test_device_totals_and_means(ex):
    devices = _cpu8()
    x = X[:, :2]  # (8, 2): one row per device
    got = _run("device_totals_and_means", ex.device_totals_and_means, x, devices)
    want = (np.full(8, x.sum(dtype=np.float64), np.float32), np.full(8, x.mean(dtype=np.float64), np.float32))
    call = expect.call("device_totals_and_means", x, _Label("jax.devices('cpu')[:8]"))
    expect.close(got, want, rtol=1e-4, atol=1e-5, call=call,
                 hint="inside the pmapped function: lax.psum(jnp.sum(row), name) for the total and "
                      "lax.pmean(jnp.mean(row), name) for the mean, with pmap(..., axis_name=name).")
    traced = jax.make_jaxpr(lambda x: ex.device_totals_and_means(x, devices))
    program = str(_run("device_totals_and_means", traced, x))
    expect.that("psum" in program or "pmean" in program, call=call,
                expected="collectives (psum / pmean) in the traced program", returned="no collective operation",
                hint="compute the statistics inside the pmapped function with lax.psum and lax.pmean.")


# ---------------------------------------------------------------------------------------------
# shard_map
# ---------------------------------------------------------------------------------------------

@pytest.mark.exercise("data_parallel_loss", points=3)
def test_data_parallel_loss_and_its_grad(ex):
    mesh = Mesh(np.array(_cpu8()), ("batch",))
    f = lambda w, x, y: ex.data_parallel_loss(w, x, y, mesh)  # noqa: E731
    call = expect.call("data_parallel_loss", W, X, Y, _Label("mesh"))
    program = str(_run("data_parallel_loss", jax.make_jaxpr(f), W, X, Y))
    expect.that("shard_map" in program, call=call, expected="a jax.shard_map in the traced program",
                returned="a program without shard_map",
                hint="jax.shard_map(block_loss, mesh=mesh, in_specs=(P(), P(axis), P(axis)), out_specs=P()).")
    got = _run("data_parallel_loss", jax.jit(jax.value_and_grad(f)), W, X, Y)
    r = X.astype(np.float64) @ W - Y
    want = (np.float32(np.mean(r ** 2)), (2 / N * X.T @ r).astype(np.float32))
    expect.close(got, want, rtol=1e-4, atol=1e-5, call=f"jax.value_and_grad of {call}",
                 hint="average the block losses with lax.pmean(loss, axis): lax.psum would add them up.")


# ---------------------------------------------------------------------------------------------
# stop_gradient: a TD(0) target
# ---------------------------------------------------------------------------------------------

@pytest.mark.exercise("td_loss", points=3)
def test_td_loss_holds_the_target_fixed(ex):
    gamma = np.float32(0.9)
    got = _run("td_loss", jax.jit(jax.value_and_grad(ex.td_loss)), W, X, Y, X_NEXT, gamma)
    s, s_next = X.astype(np.float64), X_NEXT.astype(np.float64)
    delta = Y + gamma * (s_next @ W) - s @ W
    want = (np.float32(np.mean(delta ** 2)), (-2 / N * s.T @ delta).astype(np.float32))
    expect.close(got, want, rtol=1e-4, atol=1e-5,
                 call="jax.value_and_grad(td_loss)(theta, s, r, s_next, gamma=0.9)",
                 hint="the gradient must flow through V(s) only: target = lax.stop_gradient(r + gamma * V(s_next)).")
