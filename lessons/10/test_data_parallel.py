"""Lesson 10 tests: data-parallel training with pmap, shard_map and jit over shardings, and a
convolution split across devices.

The tests run on 8 CPU devices (`jax.devices("cpu")`), some on a mesh or device list of only 4 of them
(the last four): a step must take its number of devices from the mesh or the devices it is given. The
expected values come from NumPy in float64: one device training on the whole batch. Beyond the numbers, the concept checks read where
the results live (`.sharding`, the devices of their shards), the traced program (`jax.make_jaxpr`:
shard_map's blocks, psum, ppermute) and the compiled program (the all-reduce XLA adds for jit).
"""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from grader.learner import expect, jaxprs

N_DEV = 8
SMALL = 4              # the MLP steps, and the halo convolution in part, run on 4 of the 8 devices
# Every size different: 48 examples of 3 features, 6 rows per device (12 on the 4-device meshes), an MLP
# 3 -> 5 -> 1. No axis has the length of another (nor of a number of devices), so a leaf laid out along
# the wrong axis can't pass for the right layout.
N, D = 48, 3
ROWS = N // N_DEV
MLP_SIZES = (D, 5, 1)
LRS = (0.1, 0.05)      # two steps: a new batch and a new learning rate
TOL = {"rtol": 1e-4, "atol": 1e-5}

RNG = np.random.default_rng(10)


def _normal(*shape, scale=1.0):
    return (scale * RNG.normal(size=shape)).astype(np.float32)


X_STEPS = [_normal(N, D), _normal(N, D)]
START = {
    "linear": {"w": _normal(D), "b": np.float32(0.3)},
    "mlp": [{"w": _normal(D, MLP_SIZES[1], scale=np.sqrt(2 / D)), "b": _normal(MLP_SIZES[1], scale=0.3)},
            {"w": _normal(MLP_SIZES[1], 1, scale=np.sqrt(2 / MLP_SIZES[1])), "b": _normal(1, scale=0.3)}],
}
BATCHES = {
    "linear": [(x, _normal(N)) for x in X_STEPS],
    "mlp": [(x, _normal(N, 1)) for x in X_STEPS],
}
LOSS_NAME = {"linear": "linear_loss", "mlp": "mlp_loss"}
MLP_SHOWN = " -> ".join(map(str, MLP_SIZES))
WHAT = {"linear": "linear regression", "mlp": f"the MLP {MLP_SHOWN}"}
SIGNAL = _normal(N)
KERNELS = [np.array([0.5, -1.0, 2.0], np.float32), np.array([1.0, 0.25, -0.5, 2.0, -1.5], np.float32)]


def _cpu8():
    return jax.devices("cpu")[:N_DEV]


def _devices(n_dev=N_DEV):
    """All 8 CPU devices, or the LAST n_dev of them (ids 4 ... 7 for 4): never JAX's default list."""
    return _cpu8()[N_DEV - n_dev:]


def _mesh(name, n_dev=N_DEV):
    return Mesh(np.array(_devices(n_dev)), (name,))


def _mesh_label(name, n_dev=N_DEV):
    return f"mesh with axis {name!r} over {n_dev} devices (ids {[d.id for d in _devices(n_dev)]})"


def _fresh(tree):
    """A new copy of every leaf, as NumPy arrays: each call gets its own inputs, so a step that donates
    its arguments (donate_argnums) never meets an array it deleted."""
    return jax.tree.map(lambda a: np.array(a, copy=True), tree)


class _Label(str):
    """Text that shows up as written (no quotes) in a failure message's call line."""

    def __repr__(self):
        return str(self)


# ---------------------------------------------------------------------------------------------
# one device on the whole batch, in NumPy float64
# ---------------------------------------------------------------------------------------------

def _f64(tree):
    return jax.tree.map(lambda a: np.asarray(a, np.float64), tree)


def _np_value_and_grad(kind, params, batch):
    params, (x, y) = _f64(params), _f64(batch)
    if kind == "linear":
        r = x @ params["w"] + params["b"] - y
        return np.mean(r ** 2), {"w": 2 / len(r) * x.T @ r, "b": 2 * np.mean(r)}
    inputs, pre, h = [], [], x
    for i, layer in enumerate(params):
        inputs.append(h)
        pre.append(h @ layer["w"] + layer["b"])
        h = np.maximum(pre[-1], 0.0) if i < len(params) - 1 else pre[-1]
    diff = h - y
    upstream, grads = 2 * diff / diff.size, [None] * len(params)
    for i in reversed(range(len(params))):
        grads[i] = {"w": inputs[i].T @ upstream, "b": upstream.sum(axis=0)}
        if i > 0:
            upstream = (upstream @ params[i]["w"].T) * (pre[i - 1] > 0)
    return np.mean(diff ** 2), grads


def _block(batch, i, n_dev=N_DEV):
    rows = N // n_dev
    return jax.tree.map(lambda a: a[i * rows:(i + 1) * rows], batch)


def _np_step(kind, params, batch, lr, grad_scale=1.0, block=None, n_dev=N_DEV):
    """One SGD step: on the whole batch, or on one device's block; with the gradient scaled."""
    loss, grads = _np_value_and_grad(kind, params, batch if block is None else _block(batch, block, n_dev))
    new = jax.tree.map(lambda p, g: p - lr * grad_scale * g, _f64(params), grads)
    return new, loss


def _as_f32(tree):
    return jax.tree.map(lambda a: np.asarray(a, np.float32), tree)


_or_none = expect.or_none


def _close(got, want, rtol=1e-4, atol=1e-5) -> bool:
    try:
        chex.assert_trees_all_equal_structs(jax.tree.map(np.asarray, got), jax.tree.map(np.asarray, want))
        chex.assert_trees_all_close(jax.tree.map(lambda a: np.asarray(a, np.float64), got),
                                    jax.tree.map(lambda a: np.asarray(a, np.float64), want), rtol=rtol, atol=atol)
        return True
    except (AssertionError, ValueError, TypeError):
        return False


# ---------------------------------------------------------------------------------------------
# JAX's own errors, told as what happened in the exercise
# ---------------------------------------------------------------------------------------------

_HINTS = {
    "unbound_axis": "a collective (psum, pmean, ppermute) named an axis that no enclosing pmap or shard_map "
                    "defined: the name given to the collective must be the mapped axis's name (for a mesh, the "
                    "name the mesh gives its axis, read from the mesh).",
    "not_replicated": "shard_map could not show that an output with out_specs P() is the same on every device: "
                      "a value computed from each device's own block (its loss, say) differs between devices "
                      "until a collective over the axis combines it.",
    "mapped_scalar": "pmap was asked to map an argument that has no device axis: lr is one float shared by every "
                     "device, so it is not mapped (in_axes None for it).",
    "not_divisible": "an array was split over the mesh's devices along an axis whose length their number does not "
                     "divide: only the batch's first axis is split; the params stay whole on every device.",
    "ppermute_pairs": "lax.ppermute was given pairs that don't fit the mesh axis: its sources and destinations are "
                      "positions along the axis, 0 ... n - 1 with n the number of devices along it (the mesh's "
                      "shape says), each used at most once. The mesh may hold fewer devices than JAX has (jax.device_count()): count the "
                      "mesh's.",
    "if_on_tracer": "a Python `if` (or bool()) met a traced value: under jit and shard_map it has no concrete value.",
    "numpy_on_tracer": "NumPy was called on a traced value: under jit only jax.numpy and jax.lax work on tracers.",
}


def _error_kind(err) -> str | None:
    text = str(err)
    if isinstance(err, jax.errors.TracerArrayConversionError):
        return "numpy_on_tracer"
    if isinstance(err, jax.errors.ConcretizationTypeError):
        return "if_on_tracer"
    if isinstance(err, NameError) and "unbound axis name" in text:
        return "unbound_axis"
    if isinstance(err, ValueError) and "out_specs" in text and "replicat" in text:
        return "not_replicated"
    if isinstance(err, ValueError) and "pmap" in text and "rank" in text:
        return "mapped_scalar"
    if isinstance(err, ValueError) and ("divisible" in text or "evenly divide" in text):
        return "not_divisible"
    if isinstance(err, ValueError) and "ppermute" in text:
        return "ppermute_pairs"
    return None


def _run(name, fn, *args, hints=None):
    """fn(*args), turning the JAX errors this lesson is about into messages that say what happened."""
    __tracebackhide__ = True
    known = {**_HINTS, **(hints or {})}
    return expect.transformed(name, lambda: fn(*args), lambda err: known.get(_error_kind(err)))


def _pair(got, call):
    expect.that(isinstance(got, (tuple, list)) and len(got) == 2, call=call, expected="a pair (params, loss)",
                returned=expect.show(got), hint="the step returns the new params and the loss, as a pair.")
    return got


# ---------------------------------------------------------------------------------------------
# judging a step: the same as one device on the whole batch, or what went wrong
# ---------------------------------------------------------------------------------------------

def _global_count_slip(n_dev):
    """The factor a step is off by when it divides by all of JAX's devices instead of the n_dev it runs on."""
    return n_dev / jax.device_count() if jax.device_count() != n_dev else None


def _step_hint(kind, params, batch, lr, got, summed_why, n_dev=N_DEV):
    """What a wrong step did, read from its new params and its loss (one copy of each)."""
    new, loss = got
    right, full_loss = _np_step(kind, params, batch, lr)
    slip = _global_count_slip(n_dev)
    if not _close(new, right):
        if _close(new, _np_step(kind, params, batch, lr, grad_scale=n_dev)[0]):
            return (f"the params moved {n_dev} times as far as one device's step on the whole batch: the devices' "
                    f"gradients were added up, not averaged ({summed_why}).")
        if slip and _close(new, _np_step(kind, params, batch, lr, grad_scale=slip)[0]):
            return (f"the params moved {slip:g} times as far as one device's step on the whole batch: the sum over "
                    f"the {n_dev} devices this step runs on was divided by the count of all of JAX's devices "
                    f"({jax.device_count()}, jax.device_count()). Average over the devices you were given: the "
                    f"mesh's or the device list's size (or a pmean, which knows it).")
        if _close(new, _np_step(kind, params, batch, lr, block=0, n_dev=n_dev)[0]):
            return ("the params took the step of the first device's block alone: the gradients of the devices' "
                    "blocks were not combined across devices (a collective over the axis).")
        if _close(new, params):
            return "the params came back unchanged: return the params after the SGD step."
        return ("the new params are not one SGD step with the full-batch gradient: the mean of the devices' "
                "gradients, which for blocks of equal size is the gradient of the whole batch.")
    loss = np.asarray(loss, np.float64)
    first_block_loss = _np_value_and_grad(kind, params, _block(batch, 0, n_dev))[0]
    if loss.shape == () and np.isclose(loss, first_block_loss, rtol=1e-4):
        return ("the loss is the first device's block loss alone: the devices' losses were not combined across "
                "devices.")
    if loss.shape == () and np.isclose(loss, n_dev * full_loss, rtol=1e-4):
        return f"the loss is {n_dev} times the full-batch loss: the devices' losses were added up, not averaged."
    if loss.shape == () and slip and np.isclose(loss, slip * full_loss, rtol=1e-4):
        return (f"the loss is {slip:g} times the full-batch loss: the sum over the {n_dev} devices this step runs on "
                f"was divided by the count of all of JAX's devices ({jax.device_count()}). Average over the "
                "devices you were given.")
    if loss.shape == () and np.isclose(loss, _np_value_and_grad(kind, right, batch)[0], rtol=1e-4):
        return "that is the loss of the UPDATED params; the step returns the loss at the params it was given."
    return "the loss is the mean over the whole batch at the params the step was given."


def _train(kind, call, one_step, summed_why, n_dev=N_DEV):
    """Runs len(LRS) steps of `one_step(params, batch, lr) -> (params, loss)` from START[kind], each
    on a new batch (fresh copies every call), and compares every step with one device on the whole batch."""
    params = START[kind]
    for i, (batch, lr) in enumerate(zip(BATCHES[kind], LRS)):
        got = one_step(_fresh(params), _fresh(batch), lr)
        right, loss = _np_step(kind, params, batch, lr)
        want = (_as_f32(right), np.float32(loss))
        if not _close(got, want):
            expect.close(got, want, **TOL, call=f"{call}, step {i + 1} of {len(LRS)} (lr={lr})",
                         hint=_step_hint(kind, params, batch, lr, got, summed_why, n_dev))
        params = want[0]


# ---------------------------------------------------------------------------------------------
# replicate and shard_batch: the layout pmap wants
# ---------------------------------------------------------------------------------------------

def _leaf_that_raises(fn, tree, n_dev):
    """The shape of the first leaf on which fn({"leaf": leaf}, n_dev) raises, else None."""
    for leaf in jax.tree.leaves(tree):
        try:
            fn({"leaf": _fresh(leaf)}, n_dev)
        except Exception:  # noqa: BLE001  (any error: we only say which leaf it was)
            return np.shape(leaf)
    return None


def _layout_call(name, fn, tree, n_dev, call, expected, regime):
    """fn(tree, n_dev), where an error becomes a message that says on which leaf it came. NumPy leaves are
    copied; jax.Array leaves, which nothing can change, go as they are."""
    given = jax.tree.map(lambda a: np.array(a, copy=True) if isinstance(a, np.ndarray) else a, tree)
    try:
        return _run(name, fn, given, n_dev)
    except (TypeError, ValueError, IndexError) as err:
        shape = _leaf_that_raises(fn, tree, n_dev)
        where = f"on its own, the leaf of shape {shape} raises too: " if shape is not None else ""
        raise expect.failure(call, expected, expect.raised(err), where + regime) from None


# The docstrings' pytrees: any nesting of arrays, NumPy or jax.numpy, of any number of axes (a scalar's
# none too). The MLP's params hold 2-D and 1-D NumPy leaves; the linear params a 1-D jax.Array and a 0-d b.
REPLICATE_CASES = [("params (MLP " + MLP_SHOWN + ", NumPy leaves)", START["mlp"]),
                   ("params (linear regression, jax.Array leaves: w of shape (3,), b of shape ())",
                    jax.tree.map(jnp.asarray, START["linear"]))]


@pytest.mark.exercise("replicate", points=1)
def test_replicate(ex):
    for shown, params in REPLICATE_CASES:
        call = expect.call("replicate", _Label(shown), N_DEV)
        want = jax.tree.map(lambda p: np.stack([np.asarray(p)] * N_DEV), params)
        got = _layout_call("replicate", ex.replicate, params, N_DEV, call,
                           f"every leaf of shape s as shape ({N_DEV}, *s)",
                           f"every leaf, whatever its number of axes (a scalar's none too), gets a new leading axis "
                           f"of length {N_DEV}, each row along it a whole copy of the leaf.")
        if _close(got, want, 0, 0):
            continue
        w = np.shape(START["mlp"][0]["w"])
        hint = (f"every leaf gets a new leading axis of length {N_DEV}, and each row along it is a whole copy of the "
                f"leaf: {(N_DEV,) + w} for a {w} weight.")
        joined = [(N_DEV * np.shape(p)[0],) + np.shape(p)[1:] if np.ndim(p) else None for p in jax.tree.leaves(params)]
        if jax.tree.structure(got) == jax.tree.structure(want) and \
                [np.shape(a) for a in jax.tree.leaves(got)] == joined:
            hint = (f"the copies were joined end to end along the leaf's own first axis, {(N_DEV * w[0],) + w[1:]} for "
                    f"a {w} weight: they go along a NEW leading axis, one row per device.")
        expect.close(got, want, rtol=0, atol=0, call=call, hint=hint)


# Leaves of shape (n, *rest): rest of one axis (x and the MLP's y) and of none (the linear regression's y).
SHARD_CASES = [BATCHES["mlp"][0], BATCHES["linear"][0]]


@pytest.mark.exercise("shard_batch", points=2)
def test_shard_batch(ex):
    for batch in SHARD_CASES:
        call = expect.call("shard_batch", _Label(f"(x of shape {batch[0].shape}, y of shape {batch[1].shape})"),
                           N_DEV)
        got = _layout_call("shard_batch", ex.shard_batch, batch, N_DEV, call,
                           f"every leaf of shape (n, *rest) as ({N_DEV}, n // {N_DEV}, *rest)",
                           f"every leaf (n, *rest) becomes ({N_DEV}, n // {N_DEV}, *rest), whatever the number of "
                           f"axes in rest (none for a 1-D y).")
        want = tuple(a.reshape((N_DEV, ROWS) + a.shape[1:]) for a in batch)
        if _close(got, want, 0, 0):
            continue
        interleaved = tuple(np.swapaxes(a.reshape((ROWS, N_DEV) + a.shape[1:]), 0, 1) for a in batch)
        if _close(got, interleaved, 0, 0):
            hint = (f"device 0 got rows 0, {N_DEV}, {2 * N_DEV}, ... (every {N_DEV}th row): the batch was dealt out "
                    f"like cards. Each device gets a block of {ROWS} consecutive rows.")
        elif jax.tree.structure(got) == jax.tree.structure(want) and \
                [np.shape(a) for a in jax.tree.leaves(got)] != [a.shape for a in want]:
            hint = (f"the blocks had shapes {[np.shape(a) for a in jax.tree.leaves(got)]}: one block per device along "
                    f"a new leading axis, ({N_DEV}, {ROWS}, ...), and every leaf of the batch split the same way.")
        else:
            hint = f"block i holds rows {ROWS}*i ... {ROWS}*i+{ROWS - 1} of every leaf, along a new leading axis."
        expect.close(got, want, rtol=0, atol=0, call=call, hint=hint)


# ---------------------------------------------------------------------------------------------
# pmap
# ---------------------------------------------------------------------------------------------

def _pmap_devices(n_dev=N_DEV):
    return _devices(n_dev)[::-1]


def _replicated(params, n_dev):
    return jax.tree.map(lambda p: np.stack([p] * n_dev), params)


def _split(batch, n_dev):
    return jax.tree.map(lambda a: np.array(a).reshape((n_dev, N // n_dev) + a.shape[1:]), batch)


def _pmap_one_step(ex, kind, n_dev=N_DEV):
    """A step function on one copy of params and a whole batch, through the learner's pmap step."""
    devices = _pmap_devices(n_dev)
    step = ex.make_pmap_step(getattr(ex, LOSS_NAME[kind]), devices)
    call = (f"step = make_pmap_step({LOSS_NAME[kind]}, devices = {n_dev} CPU devices, ids "
            f"{[d.id for d in devices]}); step(params, batch, lr) on {WHAT[kind]}")

    def one_step(params, batch, lr):
        got = _pair(_run("make_pmap_step", step, _replicated(params, n_dev), _split(batch, n_dev), lr), call)
        new, losses = jax.tree.map(np.asarray, got[0]), np.asarray(got[1])
        leaves = jax.tree.leaves(new)
        expect.that(all(a.ndim >= 1 and a.shape[0] == n_dev for a in leaves) and losses.shape == (n_dev,),
                    call=call, expected=f"params and loss with a leading device axis of {n_dev}",
                    returned=f"params shapes {[a.shape for a in leaves]}, loss shape {losses.shape}",
                    hint="pmap returns one value per device, stacked along a leading axis.")
        diverged = [i for i in range(1, n_dev) if not _close([a[i] for a in leaves], [a[0] for a in leaves])]
        own_steps = all(_close(jax.tree.map(lambda a: a[i], new),
                               _np_step(kind, params, batch, lr, block=i, n_dev=n_dev)[0]) for i in range(n_dev))
        expect.that(not diverged, call=call, expected="the same new params on every device",
                    returned=f"device copies {diverged} differ from device 0's",
                    hint="each device's copy took the step of its own block's gradient alone: the gradients were "
                         "not averaged across devices before the step, so the copies drifted apart." if own_steps
                    else "after the step every device holds the same params: each takes the same step, with the "
                         "gradient averaged over all the devices' blocks.")
        spread = [i for i in range(1, n_dev) if not np.isclose(losses[i], losses[0], rtol=1e-5)]
        own_losses = all(np.isclose(losses[i], _np_value_and_grad(kind, params, _block(batch, i, n_dev))[0], rtol=1e-4)
                         for i in range(n_dev))
        expect.that(not spread, call=call, expected="the same loss on every device",
                    returned=f"losses {losses}",
                    hint="each device returned its own block's loss: average the losses across devices too."
                    if own_losses else "every device returns the same loss: the mean over the whole batch.")
        return jax.tree.map(lambda a: a[0], new), losses[0]

    return call, one_step


_PMAP_SUMMED = "a sum across the devices, such as lax.psum, is n times their mean"


@pytest.mark.exercise("make_pmap_step", points=2)
def test_pmap_step_trains_like_one_device(ex):
    call, one_step = _pmap_one_step(ex, "linear")
    _train("linear", call, one_step, _PMAP_SUMMED)


@pytest.mark.exercise("make_pmap_step", points=1)
def test_pmap_step_trains_the_mlp(ex):
    call, one_step = _pmap_one_step(ex, "mlp", SMALL)
    _train("mlp", call, one_step, _PMAP_SUMMED, SMALL)


def _reductions(names):
    return sorted({n for n in names if "psum" in n or "pmean" in n or n == "all_reduce"})


@pytest.mark.exercise("make_pmap_step", points=1)
def test_pmap_step_averages_on_the_given_devices(ex):
    devices = _pmap_devices()
    params, batch = START["linear"], BATCHES["linear"][0]
    step = ex.make_pmap_step(ex.linear_loss, devices)
    call = (f"step = make_pmap_step(linear_loss, devices = jax.devices('cpu')[:8][::-1] (ids "
            f"{[d.id for d in devices]})); step(params, batch, lr)")
    program = _run("make_pmap_step", jax.make_jaxpr(lambda p, b: step(p, b, 0.1)), _replicated(params, N_DEV),
                   _split(batch, N_DEV))
    found = _reductions(jaxprs.op_names(program))
    expect.that(bool(found), call=call, expected="a collective (pmean / psum) in the traced step",
                returned="a program without any collective",
                hint="the devices never combined anything: each device computed on its own block alone. A "
                     "collective inside the pmapped function averages across devices.")
    new, _ = _pair(_run("make_pmap_step", step, _replicated(params, N_DEV), _split(batch, N_DEV), 0.1), call)
    leaf = jax.tree.leaves(new)[0]
    placed = [s.device.id for s in getattr(leaf, "addressable_shards", None) or []]
    want = [d.id for d in devices]
    defaults = [d.id for d in jax.local_devices()[:N_DEV]]
    expect.that(placed == want, call=call, expected=f"copy i of the params computed on devices[i]: devices {want}",
                returned=f"copies on devices {placed}",
                hint="the step ran on JAX's default devices, not on the devices it was given: pmap takes the "
                     "devices to run on (on a GPU runner the defaults are not these CPUs at all)."
                if placed == defaults and placed != want else
                "copy i of the params is computed on devices[i], in the order of the list the step was given.")


# ---------------------------------------------------------------------------------------------
# shard_map
# ---------------------------------------------------------------------------------------------

_SHARD_MAP_SUMMED = ("inside shard_map, the gradient of each device's own loss with respect to params that came in "
                     "replicated (P()) is already summed over the devices, so averaging those gradients afterwards "
                     "changes nothing")


def _shard_map_one_step(ex, kind, axis, n_dev=N_DEV):
    mesh = _mesh(axis, n_dev)
    step = jax.jit(ex.make_shard_map_step(getattr(ex, LOSS_NAME[kind]), mesh))
    call = (f"step = make_shard_map_step({LOSS_NAME[kind]}, {_mesh_label(axis, n_dev)}); jax.jit(step)(params, "
            f"batch, lr) on {WHAT[kind]}")

    def one_step(params, batch, lr):
        return _pair(_run("make_shard_map_step", step, params, batch, lr), call)

    return call, one_step


@pytest.mark.exercise("make_shard_map_step", points=2)
def test_shard_map_step_trains_like_one_device(ex):
    call, one_step = _shard_map_one_step(ex, "linear", "batch")
    _train("linear", call, one_step, _SHARD_MAP_SUMMED)


@pytest.mark.exercise("make_shard_map_step", points=1)
def test_shard_map_step_trains_the_mlp(ex):
    call, one_step = _shard_map_one_step(ex, "mlp", "data", SMALL)
    _train("mlp", call, one_step, _SHARD_MAP_SUMMED, SMALL)


def _shard_map_eqns(jaxpr):
    """The shard_map operations of a program, those inside nested programs (an inner jit) too."""
    return [eqn for eqn in jaxprs.equations(jaxpr) if eqn.primitive.name == "shard_map"]


def _shard_map_inputs(eqns):
    """(global shape, spec, local shape) of every input of every shard_map."""
    seen = []
    for eqn in eqns:
        specs = eqn.params.get("in_specs") or eqn.params.get("in_names") or ()
        inner = getattr(eqn.params["jaxpr"], "jaxpr", eqn.params["jaxpr"])
        for var, spec, local in zip(eqn.invars, specs, inner.invars):
            seen.append((tuple(var.aval.shape), spec, tuple(local.aval.shape)))
    return seen


def _describe(shape, inputs):
    found = [f"{spec} -> {local}" for s, spec, local in inputs if s == shape]
    return f"{shape} reached each device as {found[0]}" if found else f"no input of shape {shape}"


def _replicated_on_mesh(value, mesh) -> bool:
    sharding = getattr(value, "sharding", None)
    return sharding is not None and sharding.is_fully_replicated and sharding.device_set == set(mesh.devices.flat)


def _where(value) -> str:
    sharding = getattr(value, "sharding", None)
    if sharding is None:
        return f"a {type(value).__name__}, not a jax.Array"
    return f"{sharding} over {len(sharding.device_set)} device(s)"


@pytest.mark.exercise("make_shard_map_step", points=2)
def test_shard_map_step_splits_the_batch_and_averages(ex):
    mesh = _mesh("batch")
    params, batch = START["linear"], BATCHES["linear"][0]
    step = ex.make_shard_map_step(ex.linear_loss, mesh)
    call = "step = make_shard_map_step(linear_loss, mesh); jax.jit(step)(params, (x, y), lr)"
    program = _run("make_shard_map_step", jax.make_jaxpr(step), _fresh(params), _fresh(batch), 0.1)
    eqns = list(_shard_map_eqns(program))
    expect.that(bool(eqns), call=call, expected="a jax.shard_map in the traced step",
                returned="a program without shard_map",
                hint="the step ran as one piece: shard_map runs a function on each device's block of the inputs, "
                     "as the mesh and the PartitionSpecs lay them out.")
    inputs = _shard_map_inputs(eqns)
    x_shape, y_shape = batch[0].shape, batch[1].shape
    split = [any(s == shape and local != s for s, _, local in inputs) for shape in (x_shape, y_shape)]
    expect.that(all(split), call=call, expected=f"x and y split along their first axis: blocks of {ROWS} rows",
                returned=f"x of shape {_describe(x_shape, inputs)}; y of shape {_describe(y_shape, inputs)}",
                hint="the batch reached every device whole (replicated), so every device computed the whole "
                     "batch: data parallelism gives each device its own block, with a PartitionSpec that names "
                     "the mesh axis for the batch's first axis.")
    inside = [n for eqn in eqns for n in jaxprs.op_names(eqn.params["jaxpr"])]
    expect.that(bool(_reductions(inside)), call=call,
                expected="a collective (pmean / psum) inside the shard_map",
                returned=f"none among its operations {sorted(set(inside))[:12]}",
                hint="nothing combined the devices' blocks: each device's result came from its own block alone "
                     "(check_vma=False only switches off JAX's check that would have caught it).")
    new, loss = _pair(_run("make_shard_map_step", jax.jit(step), _fresh(params), _fresh(batch), 0.1), call)
    leaves = jax.tree.leaves(new) + [loss]
    scattered = [_where(a) for a in leaves if not _replicated_on_mesh(a, mesh)]
    expect.that(not scattered, call=call, expected="new params and loss replicated on all 8 devices of the mesh",
                returned="; ".join(scattered),
                hint="the outputs are not whole on every device of the mesh: the new params and the loss are the "
                     "same everywhere, which out_specs P() says.")


# ---------------------------------------------------------------------------------------------
# jit over NamedShardings
# ---------------------------------------------------------------------------------------------

def _blocks(value):
    """[(device id, shard shape)] of a jax.Array, in device order."""
    shards = getattr(value, "addressable_shards", None) or []
    return sorted((s.device.id, tuple(s.data.shape)) for s in shards)


def _layout(value) -> str:
    blocks = _blocks(value)
    if not blocks:
        return f"a {type(value).__name__}, not a jax.Array placed on devices"
    shapes = sorted({shape for _, shape in blocks})
    return f"{len(blocks)} device(s) holding blocks of shape {shapes[0] if len(shapes) == 1 else shapes}"


def _equivalent(value, sharding) -> bool:
    own = getattr(value, "sharding", None)
    try:
        return own is not None and own.is_equivalent_to(sharding, np.ndim(value))
    except Exception:
        return False


# Each test judges one half of the answer. The other half's inputs fit any layout (every axis of the
# batch, or every leaf's first axis of the params, a multiple of 8), so a slip in that half can't
# make this test's call fail.
_EVEN_BATCH = (_normal(N, 8), _normal(N, 8))
_EVEN_PARAMS = [{"w": _normal(8, 16), "b": _normal(16)}, {"w": _normal(16, 8), "b": _normal(8)}]


@pytest.mark.exercise("place_on_mesh", points=1)
def test_place_on_mesh_replicates_the_params(ex):
    mesh = _mesh("rows")
    params, batch = START["mlp"], _EVEN_BATCH
    call = expect.call("place_on_mesh", _Label(f"params (MLP {MLP_SHOWN})"),
                       _Label(f"(x of shape {batch[0].shape}, y of shape {batch[1].shape})"),
                       _Label("mesh (8 devices, axis 'rows')"))
    got = _pair(_run("place_on_mesh", ex.place_on_mesh, _fresh(params), _fresh(batch), mesh), call)
    expect.close(got[0], params, rtol=0, atol=0, call=call + ": the params",
                 hint="placing arrays on devices moves them; it doesn't change their values.")
    bad = [(i, a) for i, a in enumerate(jax.tree.leaves(got[0])) if not _equivalent(a, NamedSharding(mesh, P()))]
    expect.that(not bad, call=call + ": the params", expected="every leaf whole on each of the 8 devices (P())",
                returned="; ".join(f"leaf {i}: {_layout(a)}" for i, a in bad[:2]),
                hint="the params were not replicated over the mesh: every device trains with the whole params, so "
                     "each needs its own full copy (a NamedSharding on the mesh with an empty PartitionSpec).")


@pytest.mark.exercise("place_on_mesh", points=2)
def test_place_on_mesh_splits_the_batch(ex):
    mesh = _mesh("rows")
    params, batch = _EVEN_PARAMS, BATCHES["mlp"][0]
    call = expect.call("place_on_mesh", _Label("params (MLP 8 -> 16 -> 8)"),
                       _Label(f"(x of shape {batch[0].shape}, y of shape {batch[1].shape})"),
                       _Label("mesh (8 devices, axis 'rows')"))
    got = _pair(_run("place_on_mesh", ex.place_on_mesh, _fresh(params), _fresh(batch), mesh), call)
    expect.close(got[1], batch, rtol=0, atol=0, call=call + ": the batch",
                 hint="placing arrays on devices moves them; it doesn't change their values.")
    split = NamedSharding(mesh, P("rows"))
    bad = [(name, a) for name, a in zip(("x", "y"), jax.tree.leaves(got[1])) if not _equivalent(a, split)]
    if not bad:
        return
    name, value = bad[0]
    blocks = _blocks(value)
    if blocks and all(shape == np.shape(value) for _, shape in blocks):
        hint = (f"{name} was whole on {'every' if len(blocks) > 1 else 'one'} device: the batch is split, each "
                "device holding its own block of rows (the mesh axis named for the first axis).")
    else:
        hint = (f"device i of the mesh holds rows {ROWS}*i ... {ROWS}*i+{ROWS - 1} of {name}: a NamedSharding whose "
                "PartitionSpec names the mesh axis for the first axis.")
    expect.that(False, call=call + ": the batch", expected=f"x and y split in blocks of {ROWS} rows, one per device",
                returned=f"{name}: {_layout(value)} ({_where(value)})", hint=hint)


def _jit_one_step(ex, kind, axis, n_dev=N_DEV):
    mesh = _mesh(axis, n_dev)
    step = ex.make_jit_step(getattr(ex, LOSS_NAME[kind]), mesh)
    call = (f"step = make_jit_step({LOSS_NAME[kind]}, {_mesh_label(axis, n_dev)}); step(params, batch, lr) on "
            f"{WHAT[kind]}, with NumPy arrays")

    def one_step(params, batch, lr):
        return _pair(_run("make_jit_step", step, params, batch, lr), call)

    return call, one_step


_JIT_SUMMED = ("under jit the compiler already combines the blocks into the gradient of the mean over the whole "
               "batch: nothing needs scaling by the number of devices")


@pytest.mark.exercise("make_jit_step", points=2)
def test_jit_step_trains_like_one_device(ex):
    call, one_step = _jit_one_step(ex, "linear", "data")
    _train("linear", call, one_step, _JIT_SUMMED)


@pytest.mark.exercise("make_jit_step", points=1)
def test_jit_step_trains_the_mlp(ex):
    call, one_step = _jit_one_step(ex, "mlp", "batch", SMALL)
    _train("mlp", call, one_step, _JIT_SUMMED, SMALL)


@pytest.mark.exercise("make_jit_step", points=2)
def test_jit_step_splits_the_batch_and_all_reduces(ex):
    mesh = _mesh("data")
    params, batch = START["linear"], BATCHES["linear"][0]
    step = ex.make_jit_step(ex.linear_loss, mesh)
    call = "step = make_jit_step(linear_loss, mesh); step(params, (x, y), lr) with NumPy arrays"
    expect.that(callable(getattr(step, "lower", None)), call=call, expected="the jax.jit-wrapped step (it has .lower)",
                returned=f"a {type(step).__name__} without .lower",
                hint="make_jit_step returns the function jax.jit made, with its shardings.")
    new, loss = _pair(_run("make_jit_step", step, _fresh(params), _fresh(batch), 0.1), call)
    compiled = _run("make_jit_step", lambda: step.lower(_fresh(params), _fresh(batch), 0.1).compile().as_text())
    reduces = "all-reduce" in compiled
    outputs = jax.tree.leaves(new) + [loss]
    on_one = all(len(getattr(getattr(a, "sharding", None), "device_set", ())) <= 1 for a in outputs)
    batch_whole = _or_none(lambda: all(s.is_fully_replicated for s in jax.tree.leaves(
        step.lower(_fresh(params), _fresh(batch), 0.1).compile().input_shardings[0][1])))
    if on_one:
        hint = ("the whole step ran on one device: the NumPy inputs were never placed on the mesh. in_shardings "
                "tell jit where each argument lives, and it puts plain arrays there.")
    elif batch_whole:
        hint = ("no all-reduce in the compiled step, so no device needed another's gradient: every device "
                "computed the whole batch, which came in replicated instead of split over the mesh axis.")
    else:
        hint = ("no all-reduce in the compiled step, so no device needed another's gradient: with the batch split "
                "over the mesh axis, the compiler sums the blocks' gradients across devices by itself.")
    expect.that(reduces, call=call + ": step.lower(...).compile().as_text()",
                expected="an all-reduce in the compiled program (the gradients summed across devices)",
                returned="no all-reduce", hint=hint)
    scattered = [_where(a) for a in outputs if not _replicated_on_mesh(a, mesh)]
    expect.that(not scattered, call=call, expected="new params and loss replicated on all 8 devices of the mesh",
                returned="; ".join(scattered),
                hint="the outputs are not whole on every device: the next step needs the new params replicated "
                     "again (out_shardings).")


# ---------------------------------------------------------------------------------------------
# a convolution split across devices: halos with ppermute
# ---------------------------------------------------------------------------------------------

def _np_correlate(x, kernel, mode="zeros", n_dev=N_DEV):
    """out[i] = sum_j kernel[j] * x[i + j - h], with x beyond the ends as `mode` says: "zeros" (the
    definition), "wrap" (cyclic), or "blocks" (each of n_dev devices' blocks padded with zeros on its own)."""
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    h = len(kernel) // 2
    if mode == "blocks":
        return np.concatenate([_np_correlate(b, kernel) for b in x.reshape(n_dev, -1)])
    padded = np.concatenate([x[-h:], x, x[:h]]) if mode == "wrap" else np.pad(x, h)
    return np.array([padded[i:i + len(kernel)] @ kernel for i in range(len(x))])


def _np_swapped(x, kernel, n_dev=N_DEV):
    """The halos taken from the wrong neighbours: the left one from the next device's first values,
    the right one from the previous device's last values."""
    blocks = np.asarray(x, np.float64).reshape(n_dev, -1)
    h, out = len(kernel) // 2, []
    for i, b in enumerate(blocks):
        left = blocks[i + 1][:h] if i + 1 < n_dev else np.zeros(h)
        right = blocks[i - 1][-h:] if i > 0 else np.zeros(h)
        padded = np.concatenate([left, b, right])
        out.append([padded[j:j + len(kernel)] @ kernel for j in range(len(b))])
    return np.concatenate(out)


def _conv_hint(got, x, kernel, n_dev=N_DEV):
    got = np.asarray(got, np.float64)
    if got.shape != x.shape:
        return f"the output had shape {got.shape}: one value per value of x, {x.shape}, split like x."
    want = _np_correlate(x, kernel)
    wrong = np.flatnonzero(~np.isclose(got, want, rtol=1e-4, atol=1e-5))
    h = len(kernel) // 2
    rows = len(x) // n_dev
    near_edges = {int(i) for b in range(1, n_dev) for i in range(b * rows - h, b * rows + h)}
    if np.allclose(got, _np_correlate(x, kernel, "blocks", n_dev), rtol=1e-4, atol=1e-5):
        return (f"wrong only next to the boundaries between devices' blocks (positions {wrong.tolist()[:6]}...): "
                "each block was padded with zeros on its own, as if it were the whole signal; its halo, the edge "
                "values of the neighbouring blocks, never arrived.")
    if np.allclose(got, _np_correlate(x, kernel, "wrap"), rtol=1e-4, atol=1e-5):
        return (f"wrong only at the two ends of the signal (positions {wrong.tolist()}): the signal wrapped around, "
                "the first device received the last device's values and the other way round. Beyond the ends x is "
                "0: no device sends to the first device from the left, or to the last from the right.")
    if np.allclose(got, _np_swapped(x, kernel, n_dev), rtol=1e-4, atol=1e-5):
        return ("the halos came from the wrong neighbours: each block's left halo held the next block's first "
                "values, and its right halo the previous block's last values.")
    if np.allclose(got, _np_correlate(x, kernel[::-1]), rtol=1e-4, atol=1e-5):
        return ("this is the convolution with the kernel flipped: out[i] pairs kernel[j] with x[i + j - K // 2], "
                "as numpy.correlate does, no flip.")
    if set(wrong.tolist()) <= near_edges:
        return (f"wrong only next to the boundaries between devices' blocks (positions {wrong.tolist()[:6]}...): "
                f"the halo on each side is the K // 2 = {h} nearest values of the neighbouring block.")
    return "out[i] = sum_j kernel[j] * x[i + j - K // 2], with x = 0 beyond both ends of the whole signal."


@pytest.mark.exercise("conv1d_halo", points=3)
def test_conv1d_halo(ex):
    for n_dev, kernel in [(N_DEV, k) for k in KERNELS] + [(SMALL, KERNELS[1])]:
        mesh = _mesh("shards", n_dev)
        call = expect.call("conv1d_halo", SIGNAL, kernel, _Label(_mesh_label("shards", n_dev)))
        got = _run("conv1d_halo", jax.jit(lambda x, k: ex.conv1d_halo(x, k, mesh)), SIGNAL, kernel)
        want = _np_correlate(SIGNAL, kernel).astype(np.float32)
        if not _close(got, want):
            expect.close(got, want, **TOL, call=call, hint=_conv_hint(got, SIGNAL, kernel, n_dev))


@pytest.mark.exercise("conv1d_halo", points=2, concept=True)
def test_conv1d_halo_trades_only_the_edges(ex):
    mesh = _mesh("shards", SMALL)
    kernel, rows = KERNELS[1], N // SMALL
    call = expect.call("conv1d_halo", SIGNAL, kernel, _Label(_mesh_label("shards", SMALL)))
    program = _run("conv1d_halo", jax.make_jaxpr(lambda x, k: ex.conv1d_halo(x, k, mesh)), SIGNAL, kernel)
    eqns = list(_shard_map_eqns(program))
    expect.that(bool(eqns), call=call, expected="a jax.shard_map in the traced program",
                returned="a program without shard_map",
                hint="the signal was convolved in one piece: shard_map runs a function on each device's block.")
    inputs = _shard_map_inputs(eqns)
    split = any(s == SIGNAL.shape and local == (rows,) for s, _, local in inputs)
    expect.that(split, call=call, expected=f"x split over the mesh: a block of {rows} values per device",
                returned=f"x of shape {_describe(SIGNAL.shape, inputs)}",
                hint="every device got the whole signal (replicated): each device holds only its own block.")
    ops = [n for eqn in eqns for n in jaxprs.op_names(eqn.params["jaxpr"])]
    gathers = sorted({n for n in ops if "all_gather" in n or n == "all_to_all" or "psum" in n})
    expect.that("ppermute" in ops and not gathers, call=call,
                expected="ppermute between neighbours, and no collective that gathers the signal",
                returned=f"collectives {sorted({n for n in ops if n == 'ppermute'} | set(gathers)) or 'none'}",
                hint=("each device collected the whole signal from all the others, where it needs only K // 2 "
                      "values from each neighbour" if gathers else
                      "no values moved between devices, so no block saw its neighbours' edges")
                + ": lax.ppermute sends a block's edge to the next (or previous) device.")
    out = _run("conv1d_halo", jax.jit(lambda x, k: ex.conv1d_halo(x, k, mesh)), SIGNAL, kernel)
    expect.that(_equivalent(out, NamedSharding(mesh, P("shards"))), call=call,
                expected=f"the output split over the mesh like x: {SMALL} devices holding blocks of shape ({rows},)",
                returned=f"{_layout(out)} ({_where(out)})",
                hint="the output did not stay split: each device keeps the output of its own block "
                     "(out_specs with the mesh axis).")
