"""Lesson 13 probes.

ArrayDataset's length and examples on hidden data; epoch_order's permutations for hidden sizes, seeds and
epochs (the docstring pins the generator, so they are compared exactly); collate on hidden examples;
batches over a hidden epoch with and without drop_last. grain_dataset on hidden data, batch size, seed and
number of epochs: the order of a correct pipeline is grain's to choose, so the check compares properties
on the grader's side (every batch the data's rows, mapped; each epoch a permutation regrouped; the same
seed the same batches, another seed others; a restored iterator the same batches as an unbroken one).
prefetch_to_device's batches, in order and on the device; time_step's output and seconds with a hidden
clock; pad_batch on a hidden short batch; masked_loss with padded rows of zeros and of inf, and with no real
row at all; the training step for two steps with a hidden learning rate; save_checkpoint read back with
orbax; a run stopped after a hidden number of steps, saved with the documented save_checkpoint, restored
with restore_checkpoint and trained on; split_step_times on hidden timestamps.

As in the public tests, batches runs on the docstring's epoch_order and collate, grain_dataset on the
docstring's ArrayDataset, the training step on the docstring's masked_loss. What only the way the code runs
shows (how far the prefetcher runs ahead, when time_step waits, the step's donation) is not mirrored: a
Python value the sandbox reported would be a claim, not evidence.
"""
import functools
import os
import shutil
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import optax

from grader.learner.shared import lesson13 as doc
from grader.probes import Probes, by_part, compare, concerns, merge_findings, raised_here

PROBES = Probes("13")


def _data(rng, n):
    y = rng.integers(0, doc.CLASSES, n).astype(np.int32)
    x = rng.integers(0, 256, (n, doc.FEATURES)).astype(np.uint8)
    return {"x": x, "y": y, "id": np.arange(n, dtype=np.int32)}


def _np(tree):
    return jax.tree.map(np.asarray, tree)


def _plain_state(state):
    """A training state as the wire carries it: the optimizer state (named tuples) as its leaves."""
    return {"params": _np(dict(state["params"])), "opt_state": [np.asarray(a) for a in jax.tree.leaves(state["opt_state"])],
            "step": np.asarray(state["step"])}


EXACT = {"rtol": 0, "atol": 0}


# -- ArrayDataset, epoch_order, collate, batches ---------------------------------------------------

def _dataset_inputs(rng):
    n = int(rng.integers(5, 12))
    return {"data": _data(rng, n), "indices": rng.integers(0, n, 4).astype(np.int64)}


@PROBES("ArrayDataset", make=_dataset_inputs, **EXACT)
def array_dataset(ex, data, indices):
    ds = ex.ArrayDataset(data)
    return {"len": np.asarray(len(ds)), "examples": [_np(dict(ds[int(i)])) for i in indices]}


def _order_inputs(rng):
    return {"n": int(rng.integers(6, 20)), "seed": int(rng.integers(0, 1000)), "epoch": int(rng.integers(0, 5))}


def _check_order(got, want, inputs):
    """Exact orders; a difference costs the permutation test too unless every order is a permutation, the
    next epoch's differs and the same epoch's repeats."""
    reason = compare(got, want, rtol=0, atol=0)
    if not reason:
        return None
    n = inputs["n"]
    try:
        orders = [np.asarray(o) for o in got]
        sound = (all(sorted(o.tolist()) == list(range(n)) for o in orders) and not np.array_equal(orders[0], orders[1])
                 and np.array_equal(orders[0], orders[2]))
    except Exception:  # noqa: BLE001
        sound = False
    return concerns(reason, "test_epoch_order_values") if sound else reason


@PROBES("epoch_order", make=_order_inputs, check=_check_order)
def epoch_order(ex, n, seed, epoch):
    return [np.asarray(ex.epoch_order(n, seed, e), np.int64) for e in (epoch, epoch + 1, epoch)]


@PROBES("collate", make=_dataset_inputs, **EXACT)
def collate(ex, data, indices):
    return _np(dict(ex.collate([{k: v[int(i)] for k, v in data.items()} for i in indices])))


def _batches_inputs(rng):
    n = int(rng.integers(7, 15))
    size = int(rng.choice([s for s in range(2, 6) if n % s]))
    return {"data": _data(rng, n), "batch_size": size, "seed": int(rng.integers(0, 1000)),
            "epoch": int(rng.integers(0, 5))}


_check_batches = by_part({
    "keep": ("one epoch's batches without drop_last", "test_batches_one_epoch", EXACT),
    "drop": ("one epoch's batches with drop_last=True", "test_batches_drop_last", EXACT),
})


@PROBES("batches", make=_batches_inputs, check=_check_batches)
def batches(ex, data, batch_size, seed, epoch):
    def run(drop_last):
        with doc.on_documented(ex, "batches"):
            return [_np(dict(b)) for b in ex.batches(doc.ArrayDataset(data), batch_size, seed, epoch,
                                                    drop_last=drop_last)]
    return {"keep": raised_here(lambda: run(False)), "drop": raised_here(lambda: run(True))}


# -- grain_dataset ---------------------------------------------------------------------------------

def _grain_inputs(rng):
    n = int(rng.integers(12, 19))
    size = int(rng.choice([s for s in range(2, 6) if n % s]))  # a short last batch to drop
    return {"data": _data(rng, n), "batch_size": size, "seed": int(rng.integers(0, 1000)),
            "num_epochs": int(rng.integers(3, 5)), "stop": int(rng.integers(1, 4))}  # >= 6 batches, stop + 3 of them


@PROBES("grain_dataset", make=_grain_inputs, check=lambda got, want, inputs: _check_grain(got, inputs))
def grain_dataset(ex, data, batch_size, seed, num_epochs, stop):
    def build(s):
        with doc.on_documented(ex, "grain_dataset"):
            return ex.grain_dataset(data, batch_size, s, num_epochs)

    def ids(dataset):
        return [np.asarray(b["id"], np.int64) for b in dataset]

    def resumed():
        dataset = build(seed)
        unbroken = iter(dataset)
        for _ in range(stop):
            next(unbroken)
        state = unbroken.get_state()
        again = iter(dataset)
        again.set_state(state)
        return {"unbroken": [np.asarray(next(unbroken)["id"], np.int64) for _ in range(3)],
                "restored": [np.asarray(next(again)["id"], np.int64) for _ in range(3)]}

    return {"batches": raised_here(lambda: [_np({k: b[k] for k in ("x", "y", "id")}) for b in build(seed)]),
            "again": raised_here(lambda: ids(build(seed))), "other": raised_here(lambda: ids(build(seed + 1))),
            "resume": raised_here(resumed)}


def _same_ids(a, b):
    return len(a) == len(b) and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))


def _check_grain(got, inputs):
    epochs_test, resume_test = "test_grain_dataset_epochs", "test_grain_dataset_resumes_from_a_saved_state"
    if not isinstance(got, dict) or set(got) != {"batches", "again", "other", "resume"}:
        return "the output has the wrong structure"
    found = []
    data, size, epochs = inputs["data"], inputs["batch_size"], inputs["num_epochs"]
    per_epoch = len(data["id"]) // size
    batches = got["batches"]
    if isinstance(batches, str):
        found.append(concerns(f"the pipeline on hidden data {batches}", epochs_test))
    elif len(batches) != epochs * per_epoch:
        found.append(concerns(f"{len(batches)} batches on hidden data, not {epochs * per_epoch}", epochs_test))
    else:
        try:
            ids = [np.asarray(b["id"], np.int64) for b in batches]
            rows_right = all(
                ids[i].shape == (size,) and np.allclose(np.asarray(b["x"], np.float64),
                                                        data["x"][ids[i]].astype(np.float32) / 255.0, atol=1e-7)
                and np.array_equal(np.asarray(b["y"]), data["y"][ids[i]]) for i, b in enumerate(batches))
        except Exception:  # noqa: BLE001 - a batch that is not the data's rows
            rows_right, ids = False, []
        if not rows_right:
            found.append(concerns("batches on hidden data that are not the data's rows mapped through to_model",
                                  epochs_test))
        else:
            per = [np.concatenate(ids[e * per_epoch:(e + 1) * per_epoch]) for e in range(epochs)]
            groups = [{frozenset(i.tolist()) for i in ids[e * per_epoch:(e + 1) * per_epoch]} for e in range(epochs)]
            if any(len(set(p.tolist())) != len(p) for p in per):
                found.append(concerns("an example twice in one epoch", epochs_test))
            elif any(groups[e] == groups[e + 1] for e in range(epochs - 1)):
                found.append(concerns("the same batches of examples in two epochs", epochs_test))
            elif not isinstance(got["again"], list) or not _same_ids(got["again"], ids):
                found.append(concerns("other batches from the same seed", epochs_test))
            elif not isinstance(got["other"], list) or _same_ids(got["other"], ids):
                found.append(concerns("the same batches from another seed", epochs_test))
    resume = got["resume"]
    if isinstance(resume, str) or not isinstance(resume, dict) or \
            not _same_ids(resume.get("unbroken", []), resume.get("restored", [None])):
        found.append(concerns("a restored iterator that does not carry on as the unbroken one", resume_test))
    return merge_findings(found)


# -- prefetch_to_device, time_step -----------------------------------------------------------------

def _prefetch_inputs(rng):
    total = int(rng.integers(3, 9))
    return {"items": [{"x": rng.normal(size=(2, 3)).astype(np.float32), "id": np.array([i], np.int32)}
                      for i in range(total)], "size": int(rng.integers(1, 4))}


@PROBES("prefetch_to_device", make=_prefetch_inputs, guards=("test_prefetch_yields_every_batch_on_the_device",),
        **EXACT)
def prefetch_to_device(ex, items, size):
    got = list(ex.prefetch_to_device(iter([dict(b) for b in items]), size=size))
    return {"batches": [_np(dict(b)) for b in got],
            "on_device": np.asarray([all(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(b)) for b in got])}


def _time_inputs(rng):
    start = float(rng.uniform(0, 100))
    return {"x": rng.normal(size=5).astype(np.float32), "readings": np.array([start, start + rng.uniform(0.1, 3)]),
            "scale": float(rng.uniform(0.5, 3))}


@PROBES("time_step", make=_time_inputs, guards=("test_time_step_returns_the_output_and_seconds",), rtol=1e-6,
        atol=1e-9)
def time_step(ex, x, readings, scale):
    events = []
    output, seconds = ex.time_step(jax.jit(lambda v: v * scale), x, clock=doc.fake_clock(events, readings))
    return {"output": np.asarray(output), "seconds": np.asarray(float(seconds))}


# -- pad_batch, masked_loss ------------------------------------------------------------------------

def _pad_inputs(rng):
    size = int(rng.integers(3, 8))
    return {"batch": doc.to_model(_data(rng, int(rng.integers(1, size)))), "batch_size": size}


@PROBES("pad_batch", make=_pad_inputs, guards=("test_pad_batch",), **EXACT)
def pad_batch(ex, batch, batch_size):
    padded, mask = ex.pad_batch(dict(batch), batch_size)
    return {"padded": _np(dict(padded)), "mask": np.asarray(mask)}


def _bucket_inputs(rng):
    buckets = rng.permutation(rng.choice(np.arange(2, 65), 4, replace=False)).astype(np.int64)
    if np.all(np.diff(buckets) > 0):  # never in ascending order, where the first bucket that fits is the smallest
        buckets = buckets[::-1].copy()
    ns = np.unique(np.concatenate([buckets, buckets + 1, buckets - 1, rng.integers(1, buckets.max() + 1, 6)]))
    return {"buckets": buckets, "ns": ns[ns >= 1].astype(np.int64)}


@PROBES("bucket_size", make=_bucket_inputs, guards=("test_bucket_size",), **EXACT)
def bucket_size(ex, buckets, ns):
    """Every n around and between the hidden buckets, one above the largest (which raises) included."""
    sizes = tuple(int(b) for b in buckets)
    return [raised_here(lambda n=n: np.asarray(int(ex.bucket_size(int(n), sizes)), np.int64)) for n in ns]


def _loss_inputs(rng):
    size, n = int(rng.integers(4, 9)), 0
    n = int(rng.integers(1, size))
    data = doc.to_model(_data(rng, size))
    params = {"w": rng.normal(0, 1, (doc.FEATURES, doc.CLASSES)).astype(np.float32),
              "b": rng.normal(0, 0.3, doc.CLASSES).astype(np.float32)}
    return {"params": params, "x": data["x"], "y": data["y"], "n": n}


_check_loss = by_part({
    "zeros": ("the loss with rows of zeros as padding", "test_masked_loss_ignores_the_padding", {"rtol": 1e-5, "atol": 1e-6}),
    "inf": ("the loss with rows of inf as padding", "test_masked_loss_ignores_the_padding", {"rtol": 1e-5, "atol": 1e-6}),
    "empty": ("the loss of a batch of padding alone (mask all False)", "test_masked_loss_ignores_the_padding",
              {"rtol": 0, "atol": 1e-6}),
})


@PROBES("masked_loss", make=_loss_inputs, check=_check_loss)
def masked_loss(ex, params, x, y, n):
    mask = np.arange(len(y)) < n
    loss = jax.jit(lambda p, b, m: ex.masked_loss(p, b, m))
    zeros = {"x": np.where(mask[:, None], x, 0).astype(np.float32), "y": np.where(mask, y, 0).astype(np.int32)}
    inf = {"x": np.where(mask[:, None], x, np.inf).astype(np.float32), "y": y}
    with doc.on_documented(ex, "masked_loss"):  # the case of inf not jitted, as in the public test
        return {"zeros": raised_here(lambda: np.asarray(loss(params, zeros, mask))),
                "inf": raised_here(lambda: np.asarray(ex.masked_loss(*jax.tree.map(jnp.asarray, (params, inf, mask))))),
                "empty": raised_here(lambda: np.asarray(loss(params, zeros, np.zeros_like(mask))))}


# -- make_train_step -------------------------------------------------------------------------------

def _step_inputs(rng):
    inputs = _loss_inputs(rng)
    return {**inputs, "seed": int(rng.integers(0, 1000)), "lr": float(rng.uniform(0.01, 0.2))}


@PROBES("make_train_step", make=_step_inputs, guards=("test_train_step_values",), rtol=1e-5, atol=1e-6)
def make_train_step(ex, params, x, y, n, seed, lr):
    tx = optax.adam(lr)
    batch, mask = {"x": x, "y": y}, np.arange(len(y)) < n
    with doc.on_documented(ex, "make_train_step"):
        step = ex.make_train_step(tx)
        state, first = step(doc.init_state(seed, tx), batch, mask)
        state, second = step(state, batch, mask)
    return {"state": _plain_state(state), "losses": [np.asarray(first), np.asarray(second)]}


# -- save_checkpoint, restore_checkpoint -----------------------------------------------------------

def _ckpt_inputs(rng):
    return {"data": _data(rng, int(rng.integers(12, 20))), "seed": int(rng.integers(0, 1000)),
            "lr": float(rng.uniform(0.01, 0.2)), "stop": int(rng.integers(1, 4)), "more": int(rng.integers(1, 4))}


@functools.lru_cache(maxsize=None)
def _doc_step(lr):
    return jax.jit(functools.partial(doc.np_step, optax.adam(lr)))


def _train(lr, state, iterator, steps):
    used = []
    for _ in range(steps):
        batch = next(iterator)
        used.append(np.asarray(batch["id"], np.int64))
        state, _ = _doc_step(lr)(state, batch, np.ones(len(batch["id"]), bool))
    return state, used


def _in_a_folder(run):
    folder = tempfile.mkdtemp(prefix="ckpt")
    try:
        return run(os.path.join(folder, "ckpt"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Trained states are compared within float32's rounding: the sandbox's XLA may order a sum otherwise.
STATE = {"rtol": 1e-5, "atol": 1e-6}


@PROBES("save_checkpoint", make=_ckpt_inputs, **STATE)
def save_checkpoint(ex, data, seed, lr, stop, more):
    tx = optax.adam(lr)
    iterator = iter(doc.grain_dataset(data, 4, seed, 2))
    state, _ = _train(lr, doc.init_state(seed, tx), iterator, stop)

    def run(where):
        ex.save_checkpoint(where, state, iterator)
        saved, position = doc.read_checkpoint(where, doc.init_state(seed + 1, tx))
        return {"state": _plain_state(saved), "position": {str(k): np.asarray(v) for k, v in position.items()}}

    return _in_a_folder(run)


@PROBES("restore_checkpoint", make=_ckpt_inputs, **STATE)
def restore_checkpoint(ex, data, seed, lr, stop, more):
    tx = optax.adam(lr)
    dataset = doc.grain_dataset(data, 4, seed, 2)
    iterator = iter(dataset)
    state, _ = _train(lr, doc.init_state(seed, tx), iterator, stop)

    def run(where):
        doc.save_checkpoint(where, state, iterator)
        restored, moved = ex.restore_checkpoint(where, doc.init_state(seed + 1, tx), dataset)
        final, used = _train(lr, restored, moved, more)
        return {"state": _plain_state(final), "ids": used}

    return _in_a_folder(run)


# -- split_step_times ------------------------------------------------------------------------------

def _times_inputs(rng):
    steps = int(rng.integers(2, 7))
    return {"times": np.cumsum(rng.uniform(0.01, 1.0, steps * 4)).reshape(steps, 4) + rng.uniform(0, 50)}


@PROBES("split_step_times", make=_times_inputs, rtol=1e-9, atol=1e-9)
def split_step_times(ex, times):
    return {str(k): np.asarray(float(v)) for k, v in dict(ex.split_step_times(times)).items()}
