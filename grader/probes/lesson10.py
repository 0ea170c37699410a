"""Lesson 10 probes: the layout helpers on fresh pytrees and batches; each data-parallel step on a
hidden linear regression and a hidden MLP, with this module's own loss (a hidden multiple of the mean
squared error, so a step must work for any mean loss), two steps each with new batches and learning
rates, on 8 CPU devices as the tests run them; `place_on_mesh` judged by the values and by the blocks
each device holds; the halo convolution on a fresh signal and kernel. A wrong linear run concerns the
tests of the linear run, a wrong MLP run the MLP tests; the concept checks (collectives in the program,
the devices used) stay with the public tests.
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


def _mesh(name):
    return Mesh(np.array(_cpu8()), (name,))


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
            "lrs": [float(v) for v in rng.uniform(0.02, 0.15, 2)], "scale": float(rng.uniform(0.5, 2.0))}


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


def _two_runs(one_step, linear, mlp, linear_batches, mlp_batches, lrs, scale):
    """{"linear": [(params, loss)] * 2, "mlp": ...}: two steps of `one_step(loss_fn, kind)` each."""
    out = {}
    for kind, params, batches in (("linear", linear, linear_batches), ("mlp", mlp, mlp_batches)):
        step, results = one_step(_scaled_loss(scale, kind)), []
        for batch, lr in zip(batches, lrs):
            params, loss = step(params, batch, lr)
            results.append((params, loss))
        out[kind] = results
    return out


# ---------------------------------------------------------------------------------------------

def _tree_inputs(rng):
    a, b = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    return {"params": {"pair": (_normal(rng, a, b), _normal(rng, b)), "s": np.float32(rng.normal())}}


@PROBES("replicate", make=_tree_inputs, rtol=0, atol=0)
def replicate(ex, params):
    return jax.jit(ex.replicate, static_argnums=1)(params, N_DEV)


def _batch_inputs(rng):
    n, d = N_DEV * int(rng.integers(2, 5)), int(rng.integers(1, 5))  # blocks of 2 or more rows: order shows
    return {"batch": (_normal(rng, n, d), _normal(rng, n), _normal(rng, n, 2, d))}


@PROBES("shard_batch", make=_batch_inputs, rtol=0, atol=0)
def shard_batch(ex, batch):
    return jax.jit(ex.shard_batch, static_argnums=1)(batch, N_DEV)


@PROBES("make_pmap_step", make=_training,
        check=_runs_check(("test_pmap_step_trains_like_one_device",), ("test_pmap_step_trains_the_mlp",)))
def make_pmap_step(ex, **inputs):
    def one_step(loss_fn):
        step = ex.make_pmap_step(loss_fn, _cpu8())

        def run(params, batch, lr):
            rep = jax.tree.map(lambda p: np.stack([p] * N_DEV), params)
            split = jax.tree.map(lambda a: a.reshape((N_DEV, -1) + a.shape[1:]), batch)
            new, losses = step(rep, split, lr)
            return jax.tree.map(np.asarray, new), np.asarray(losses)
        return run

    out = {}
    for kind in ("linear", "mlp"):
        run, params, results = one_step(_scaled_loss(inputs["scale"], kind)), inputs[kind], []
        for batch, lr in zip(inputs[f"{kind}_batches"], inputs["lrs"]):
            new, losses = run(params, batch, lr)
            results.append((new, losses))
            params = jax.tree.map(lambda a: a[0], new)
        out[kind] = results
    return out


@PROBES("make_shard_map_step", make=_training,
        check=_runs_check(("test_shard_map_step_trains_like_one_device",), ("test_shard_map_step_trains_the_mlp",)))
def make_shard_map_step(ex, **inputs):
    mesh = _mesh("batch")
    return _two_runs(lambda loss_fn: jax.jit(ex.make_shard_map_step(loss_fn, mesh)), **inputs)


@PROBES("make_jit_step", make=_training,
        check=_runs_check(("test_jit_step_trains_like_one_device",), ("test_jit_step_trains_the_mlp",)))
def make_jit_step(ex, **inputs):
    mesh = _mesh("data")
    return _two_runs(lambda loss_fn: ex.make_jit_step(loss_fn, mesh), **inputs)


def _place_inputs(rng):
    t = _training(rng)
    return {"params": t["mlp"], "batch": t["mlp_batches"][0]}


def _blocks(tree):
    """For every leaf: the (device id, shard shape) of each of its shards, as an int array."""
    out = []
    for leaf in jax.tree.leaves(tree):
        shards = getattr(leaf, "addressable_shards", None) or []
        out.append(np.array(sorted((s.device.id,) + tuple(s.data.shape) for s in shards), np.int64))
    return out


def _place_check(got, want, inputs):
    if not isinstance(got, dict) or set(got) != set(want):
        return "the output has the wrong structure"
    for part, test in (("params", "test_place_on_mesh_replicates_the_params"),
                       ("batch", "test_place_on_mesh_splits_the_batch")):
        reason = compare(got[part], want[part], rtol=0, atol=0)
        if reason:
            return concerns(f"{part}: {reason}", test)
        if compare(got[part + "_blocks"], want[part + "_blocks"], rtol=0, atol=0):
            return concerns(f"{part}: the devices hold other blocks than the layout asked for", test)
    return None


@PROBES("place_on_mesh", make=_place_inputs, check=_place_check)
def place_on_mesh(ex, params, batch):
    placed_params, placed_batch = ex.place_on_mesh(params, batch, _mesh("rows"))
    return {"params": jax.tree.map(np.asarray, placed_params), "batch": jax.tree.map(np.asarray, placed_batch),
            "params_blocks": _blocks(placed_params), "batch_blocks": _blocks(placed_batch)}


def _conv_inputs(rng):
    k = int(rng.choice([3, 5]))
    n = N_DEV * int(rng.integers(k // 2 + 1, 5))
    return {"x": _normal(rng, n), "kernel": _normal(rng, k)}


@PROBES("conv1d_halo", make=_conv_inputs, value_tests=("test_conv1d_halo",), **TOL)
def conv1d_halo(ex, x, kernel):
    mesh = _mesh("shards")
    return jax.jit(lambda x, k: ex.conv1d_halo(x, k, mesh))(x, kernel)
