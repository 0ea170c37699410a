"""Lesson 03 probes: every transform on fresh random shapes and values, run under `jax.jit` (or
`jax.value_and_grad`) the way the public tests run it. Higher-order exercises are driven with this
module's own helper functions: a Jacobian of a hidden-matrix function, a static-`n` power sum that
counts its traces, and a tick counter that counts the compiled program's runs. The device exercises
build their 8 CPU devices and mesh inside `run`, as the tests do."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from grader.probes import Probes, compare

PROBES = Probes("03")
TOL = {"rtol": 1e-4, "atol": 1e-5}


def _normal(rng, *shape, scale=1.0):
    return (scale * rng.normal(size=shape)).astype(np.float32)


def _dims(rng, n_low=4, n_high=11):
    return int(rng.integers(n_low, n_high)), int(rng.integers(2, 6))


def _cpu8():
    return jax.devices("cpu")[:8]


def _regression(rng):
    n, d = _dims(rng)
    return {"w": _normal(rng, d), "b": np.float32(rng.normal()), "x": _normal(rng, n, d), "y": _normal(rng, n)}


def _values_then_count(count_name, what, should):
    """A check: the values within tolerance first, then the count of runs (cheap evidence of compiling)."""
    def check(got, want, inputs):
        if not isinstance(got, dict) or set(got) != set(want):
            return "the output has the wrong structure"
        reason = compare(got["values"], want["values"], **TOL)
        if reason:
            return reason
        count = got[count_name]
        if type(count) is not int or count != want[count_name]:
            return f"{what} ran {count} times over {len(inputs['xs'])} calls; it should run {should}"
        return None
    return check


# ---------------------------------------------------------------------------------------------

@PROBES("loss_preds_and_grads", make=_regression, value_tests=("test_loss_preds_and_grads",), **TOL)
def loss_preds_and_grads(ex, w, b, x, y):
    return jax.jit(ex.loss_preds_and_grads)(w, b, x, y)


def _wave(a, x):
    """f: (n,) -> (m,), f(x) = sin(a @ x) * |x|^2, with a: (m, n)."""
    return jnp.sin(a @ x) * jnp.sum(x ** 2)


def _jacobian_inputs(rng):
    m = int(rng.integers(2, 5))
    n = m + int(rng.integers(1, 3))
    return {"a": _normal(rng, m, n, scale=0.7), "x": _normal(rng, n)}


@PROBES("jacobian_and_hessian", make=_jacobian_inputs, rtol=1e-4, atol=1e-4)
def jacobian_and_hessian(ex, a, x):
    return jax.jit(lambda a, x: ex.jacobian_and_hessian(functools.partial(_wave, a), x))(a, x)


def _static_n_inputs(rng):
    n1, n2 = (int(v) for v in rng.choice(np.arange(1, 7), 2, replace=False))
    d = int(rng.integers(3, 7))
    return {"xs": rng.uniform(-1.3, 1.3, size=(5, d)).astype(np.float32), "ns": (n1, n1, n1, n2, n2)}


@PROBES("jit_with_static_n", make=_static_n_inputs, check=_values_then_count("traces", "f's Python body", "once per new n"))
def jit_with_static_n(ex, xs, ns):
    body_runs = []

    def power_sum(x, n):
        body_runs.append(n)
        term = total = jnp.ones_like(x)
        for _ in range(n):
            term = term * x
            total = total + term
        return total

    g = ex.jit_with_static_n(power_sum)
    values = [g(x, n) for x, n in zip(xs, ns)]
    return {"values": values, "traces": len(body_runs)}


@PROBES("double_and_tick", make=lambda rng: {"xs": _normal(rng, int(rng.integers(2, 5)), int(rng.integers(3, 9)))},
        check=_values_then_count("ticks", "tick()", "once per call"))
def double_and_tick(ex, xs):
    ticks = []

    def tick():
        ticks.append(1)

    f = jax.jit(lambda x: ex.double_and_tick(x, tick))
    values = [f(x) for x in xs]
    jax.block_until_ready(values)
    jax.effects_barrier()
    return {"values": values, "ticks": len(ticks)}


def _threshold_inputs(rng):
    t = np.float32(rng.uniform(0.2, 1.2))
    x = _normal(rng, int(rng.integers(9, 16)), scale=1.5)
    x[:3] = [t, -t, 0.0]
    return {"x": rng.permutation(x), "t": t}


@PROBES("soft_threshold", make=_threshold_inputs)
def soft_threshold(ex, x, t):
    return jax.jit(ex.soft_threshold)(x, t)


def _collatz_inputs(rng):
    k = 5
    xs = rng.integers(1, 1000, size=k).astype(np.int32)
    ns = rng.integers(1, 40, size=k).astype(np.int32)
    ns[int(rng.integers(0, k))] = 0
    return {"xs": xs, "ns": ns}


@PROBES("collatz_after", make=_collatz_inputs)
def collatz_after(ex, xs, ns):
    f = jax.jit(ex.collatz_after)
    outs = [f(x, n) for x, n in zip(xs, ns)]
    return outs, [str(np.asarray(o).dtype) for o in outs]


@PROBES("per_example_grads", make=_regression, value_tests=("test_per_example_grads",), **TOL)
def per_example_grads(ex, w, b, x, y):
    return jax.jit(ex.per_example_grads)(w, b, x, y)


@PROBES("device_totals_and_means", make=lambda rng: {"x": _normal(rng, 8, int(rng.integers(3, 7)), scale=2.0)},
        value_tests=("test_device_totals_and_means",), **TOL)
def device_totals_and_means(ex, x):
    return ex.device_totals_and_means(x, _cpu8())


def _sharded_inputs(rng):
    n, d = 8 * int(rng.integers(2, 4)), int(rng.integers(2, 6))
    return {"w": _normal(rng, d), "x": _normal(rng, n, d), "y": _normal(rng, n)}


@PROBES("data_parallel_loss", make=_sharded_inputs, value_tests=("test_data_parallel_loss_and_its_grad",), **TOL)
def data_parallel_loss(ex, w, x, y):
    mesh = Mesh(np.array(_cpu8()), ("batch",))
    return jax.jit(jax.value_and_grad(lambda w, x, y: ex.data_parallel_loss(w, x, y, mesh)))(w, x, y)


def _td_inputs(rng):
    n, d = _dims(rng)
    return {"theta": _normal(rng, d), "s": _normal(rng, n, d), "r": _normal(rng, n), "s_next": _normal(rng, n, d),
            "gamma": np.float32(rng.uniform(0.5, 0.99))}


@PROBES("td_loss", make=_td_inputs, **TOL)
def td_loss(ex, theta, s, r, s_next, gamma):
    return jax.jit(jax.value_and_grad(ex.td_loss))(theta, s, r, s_next, gamma)
