"""Lesson 10 probes: the layout helpers on fresh pytrees and batches; each data-parallel step on a
hidden linear regression and a hidden MLP, with this module's own loss (a hidden multiple of the mean
squared error, so a step must work for any mean loss), two steps each with new batches and learning
rates, the linear run on 8 CPU devices and the MLP run on a hidden 2 or 4 of them (the public MLP
tests use 4), so a step must count the devices it was given, not all of JAX's; `place_on_mesh` judged
by the values and by the blocks each device holds, the params and the batch each by a probe of its
own; the halo convolution on a fresh signal and kernel, over all 8 devices and over a hidden 2 or 4.
A wrong linear run concerns the tests of the linear run, a wrong MLP run the MLP tests; the concept
checks (collectives in the program, the devices used) stay with the public tests. Every call gets
fresh NumPy inputs and every output is copied out at once, so a step may donate its arguments.
"""
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from grader.probes import Probes, compare, concerns, merge_findings

PROBES = Probes("10")
TOL = {"rtol": 1e-4, "atol": 1e-5}
N_DEV = 8


def _normal(rng, *shape, scale=1.0):
    return (scale * rng.normal(size=shape)).astype(np.float32)


def _cpu8():
    return jax.devices("cpu")[:N_DEV]


def _devices(n_dev=N_DEV):
    """All 8 CPU devices, or the LAST n_dev of them, as the public tests take them."""
    return _cpu8()[N_DEV - n_dev:]


def _mesh(name, n_dev=N_DEV):
    return Mesh(np.array(_devices(n_dev)), (name,))


def _fresh(tree):
    """New NumPy copies of every leaf: no call's input is an array an earlier call may have donated."""
    return jax.tree.map(lambda a: np.array(a, copy=True), tree)


def _small(rng):
    """The hidden size of the smaller device set: 2 or 4 of the 8."""
    return int(rng.choice([2, 4]))


def _scaled_loss(scale, kind):
    """`scale` times the mean squared error of a linear model or an MLP: the probes' loss_fn."""
    def linear(params, batch):
        x, y = batch
        return scale * jnp.mean((x @ params["w"] + params["b"] - y) ** 2)

    def mlp(params, batch):
        x, y = batch
        *hidden, last = params
        for layer in hidden:
            x = jax.nn.relu(x @ layer["w"] + layer["b"])
        return scale * jnp.mean((x @ last["w"] + last["b"] - y) ** 2)

    return linear if kind == "linear" else mlp


def _training(rng):
    """A linear and an MLP problem, two batches each (n a multiple of 8), two learning rates."""
    n, d = N_DEV * int(rng.integers(1, 4)), int(rng.integers(2, 6))
    hidden, out = int(rng.integers(3, 9)), int(rng.integers(1, 3))
    linear = {"w": _normal(rng, d), "b": np.float32(rng.normal())}
    mlp = [{"w": _normal(rng, d, hidden, scale=np.sqrt(2 / d)), "b": _normal(rng, hidden, scale=0.3)},
           {"w": _normal(rng, hidden, out, scale=np.sqrt(2 / hidden)), "b": _normal(rng, out, scale=0.3)}]
    xs = [_normal(rng, n, d) for _ in range(2)]
    return {"linear": linear, "mlp": mlp,
            "linear_batches": [(x, _normal(rng, n)) for x in xs],
            "mlp_batches": [(x, _normal(rng, n, out)) for x in xs],
            "lrs": [float(v) for v in rng.uniform(0.02, 0.15, 2)], "scale": float(rng.uniform(0.5, 2.0)),
            "n_small": _small(rng)}


def _runs_check(linear_tests, mlp_tests):
    """The linear run's difference concerns the linear tests, the MLP run's the MLP tests."""
    def check(got, want, inputs):
        if not isinstance(got, dict) or set(got) != set(want):
            return "the output has the wrong structure"
        findings = []
        for kind, tests in (("linear", linear_tests), ("mlp", mlp_tests)):
            reason = compare(got[kind], want[kind], **TOL)
            if reason:
                findings.append(concerns(f"{kind}: {reason}", *tests))
        return merge_findings(findings)
    return check


def _two_runs(one_step, linear, mlp, linear_batches, mlp_batches, lrs, scale, n_small):
    """{"linear": [(params, loss)] * 2, "mlp": ...}: two steps of `one_step(loss_fn, n_devices)` each,
    the linear run on all 8 devices, the MLP run on n_small."""
    out = {}
    for kind, params, batches, n_dev in (("linear", linear, linear_batches, N_DEV),
                                         ("mlp", mlp, mlp_batches, n_small)):
        step, results = one_step(_scaled_loss(scale, kind), n_dev), []
        for batch, lr in zip(batches, lrs):
            params, loss = _fresh(step(_fresh(params), _fresh(batch), lr))
            results.append((params, loss))
        out[kind] = results
    return out


# ---------------------------------------------------------------------------------------------

def _tree_inputs(rng):
    a, b = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    return {"params": {"pair": (_normal(rng, a, b), _normal(rng, b)), "s": np.float32(rng.normal())}}


@PROBES("replicate", make=_tree_inputs, rtol=0, atol=0)
def replicate(ex, params):
    return ex.replicate(params, N_DEV)


def _batch_inputs(rng):
    n, d = N_DEV * int(rng.integers(2, 5)), int(rng.integers(1, 5))  # blocks of 2 or more rows: order shows
    return {"batch": (_normal(rng, n, d), _normal(rng, n), _normal(rng, n, 2, d))}


@PROBES("shard_batch", make=_batch_inputs, rtol=0, atol=0)
def shard_batch(ex, batch):
    return ex.shard_batch(batch, N_DEV)


@PROBES("make_pmap_step", make=_training,
        check=_runs_check(("test_pmap_step_trains_like_one_device",), ("test_pmap_step_trains_the_mlp",)))
def make_pmap_step(ex, **inputs):
    def one_step(loss_fn, n_dev):
        step = ex.make_pmap_step(loss_fn, _devices(n_dev))

        def run(params, batch, lr):
            rep = jax.tree.map(lambda p: np.stack([p] * n_dev), params)
            split = jax.tree.map(lambda a: np.array(a).reshape((n_dev, -1) + a.shape[1:]), batch)
            return _fresh(step(rep, split, lr))
        return run

    out = {}
    for kind, n_dev in (("linear", N_DEV), ("mlp", inputs["n_small"])):
        run, params, results = one_step(_scaled_loss(inputs["scale"], kind), n_dev), inputs[kind], []
        for batch, lr in zip(inputs[f"{kind}_batches"], inputs["lrs"]):
            new, losses = run(params, batch, lr)
            results.append((new, losses))
            params = jax.tree.map(lambda a: a[0], new)
        out[kind] = results
    return out


@PROBES("make_shard_map_step", make=_training,
        check=_runs_check(("test_shard_map_step_trains_like_one_device",), ("test_shard_map_step_trains_the_mlp",)))
def make_shard_map_step(ex, **inputs):
    return _two_runs(lambda loss_fn, n_dev: jax.jit(ex.make_shard_map_step(loss_fn, _mesh("batch", n_dev))), **inputs)


@PROBES("make_jit_step", make=_training,
        check=_runs_check(("test_jit_step_trains_like_one_device",), ("test_jit_step_trains_the_mlp",)))
def make_jit_step(ex, **inputs):
    return _two_runs(lambda loss_fn, n_dev: ex.make_jit_step(loss_fn, _mesh("data", n_dev)), **inputs)


def _blocks(tree):
    """For every leaf: the (device id, shard shape) of each of its shards, as an int array."""
    out = []
    for leaf in jax.tree.leaves(tree):
        shards = getattr(leaf, "addressable_shards", None) or []
        out.append(np.array(sorted((s.device.id,) + tuple(s.data.shape) for s in shards), np.int64))
    return out


def _even_params(rng):
    """MLP params whose every leaf's first axis is a multiple of 8: any layout of them works."""
    a, b, c = (N_DEV * int(v) for v in rng.integers(1, 3, 3))
    return [{"w": _normal(rng, a, b), "b": _normal(rng, b)}, {"w": _normal(rng, b, c), "b": _normal(rng, c)}]


def _place_params_inputs(rng):
    """Hidden params (their axes rarely multiples of 8) with a batch whose every axis is one."""
    t = _training(rng)
    n, d = N_DEV * int(rng.integers(1, 4)), N_DEV * int(rng.integers(1, 3))
    return {"params": t["mlp"], "batch": (_normal(rng, n, d), _normal(rng, n, d))}


def _place_batch_inputs(rng):
    """A hidden batch with params that any layout could hold."""
    t = _training(rng)
    return {"params": _even_params(rng), "batch": t["mlp_batches"][0]}


def _place_check(part):
    def check(got, want, inputs):
        if not isinstance(got, dict) or set(got) != set(want):
            return "the output has the wrong structure"
        reason = compare(got["values"], want["values"], rtol=0, atol=0)
        if reason:
            return f"{part}: {reason}"
        if compare(got["blocks"], want["blocks"], rtol=0, atol=0):
            return f"{part}: the devices hold other blocks than the layout asked for"
        return None
    return check


def _placed(ex, params, batch, part):
    placed = ex.place_on_mesh(_fresh(params), _fresh(batch), _mesh("rows"))[0 if part == "params" else 1]
    return {"values": jax.tree.map(np.asarray, placed), "blocks": _blocks(placed)}


@PROBES("place_on_mesh", make=_place_params_inputs, check=_place_check("params"),
        guards=("test_place_on_mesh_replicates_the_params",))
def place_on_mesh_params(ex, params, batch):
    return _placed(ex, params, batch, "params")


@PROBES("place_on_mesh", make=_place_batch_inputs, check=_place_check("batch"),
        guards=("test_place_on_mesh_splits_the_batch",))
def place_on_mesh_batch(ex, params, batch):
    return _placed(ex, params, batch, "batch")


def _conv_inputs(rng):
    k = int(rng.choice([3, 5]))
    n = N_DEV * int(rng.integers(k // 2 + 1, 5))
    return {"x": _normal(rng, n), "kernel": _normal(rng, k), "n_small": _small(rng)}


@PROBES("conv1d_halo", make=_conv_inputs, value_tests=("test_conv1d_halo",), **TOL)
def conv1d_halo(ex, x, kernel, n_small):
    out = {}
    for name, n_dev in (("all", N_DEV), ("small", n_small)):
        mesh = _mesh("shards", n_dev)
        out[name] = np.array(jax.jit(lambda x, k: ex.conv1d_halo(x, k, mesh))(x, kernel))
    return out
