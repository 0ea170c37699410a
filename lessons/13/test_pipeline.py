"""Tests for lesson 13: feeding the device, and what a step costs.

The expected values come from the tests' own copies of the documented exercises
(grader/learner/shared/lesson13.py), from NumPy written here, and from grain itself; never from the
reference module. Where an exercise builds on another (batches on epoch_order and collate, grain_dataset
on ArrayDataset, the training step on masked_loss, the checkpoints on the grain pipeline), its tests run
it on the docstrings' versions: a mistake in one exercise costs that exercise's tests alone. No test reads
a wall clock: timing is judged with a fake clock and a step that records when it was waited for.
"""
import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from grader.learner import expect
from grader.learner.shared import lesson13 as doc

TX = optax.adam(0.05)
BATCH = 4


def _data(seed=0, n=10):
    return doc.make_data(seed, n)


def _ids(batches):
    return [np.asarray(b["id"]).tolist() for b in batches]


_doc_step = jax.jit(functools.partial(doc.np_step, TX))  # the tests' own step: compiled once, donating nothing


def _mask(n=BATCH):
    return np.ones(n, bool)


# ---------------------------------------------------------------- ArrayDataset

@pytest.mark.exercise("ArrayDataset", points=2)
@expect.concise_errors
def test_array_dataset(ex):
    data = _data(1, 7)
    ds = ex.ArrayDataset(data)
    call = "ArrayDataset(data), data = {'x': uint8 (7, 4), 'y': int32 (7,), 'id': int32 (7,)}"
    expect.that(len(ds) == 7, call=f"len({call})", expected="7", returned=expect.show(len(ds)),
                hint="the number of examples is the length of the arrays' first axis.")
    for i in (0, 3, 6):
        got = ds[i]
        expect.that(isinstance(got, dict) and set(got) == set(data), call=f"{call}[{i}]",
                    expected=f"a dict with the keys {sorted(data)}", returned=expect.show(got),
                    hint="one example is a dict: every key of the data, with that key's row i.")
        expect.equal({k: np.asarray(v) for k, v in got.items()}, {k: v[i] for k, v in data.items()},
                     call=f"{call}[{i}]", hint="data[key][i] for every key: row i, not column i.")


# ---------------------------------------------------------------- epoch_order

@pytest.mark.exercise("epoch_order", points=1)
@expect.concise_errors
def test_epoch_order_is_a_new_permutation_each_epoch(ex):
    n, seed = 12, 5
    orders = [np.asarray(ex.epoch_order(n, seed, epoch)) for epoch in range(3)]
    call = f"epoch_order({n}, seed={seed}, epoch) for epochs 0, 1, 2"
    for epoch, order in enumerate(orders):
        expect.that(order.shape == (n,) and sorted(order.tolist()) == list(range(n)), call=call,
                    expected=f"every index 0..{n - 1} exactly once in each epoch",
                    returned=f"epoch {epoch}: {order.tolist()}",
                    hint="a permutation of range(n), not n draws with replacement: some examples would be "
                         "seen twice and some never.")
    expect.that(not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2]), call=call,
                expected="a different order in every epoch", returned=f"{[o.tolist() for o in orders]}",
                hint="seed the generator with the epoch too: the same order every epoch lets the model learn it.")
    again = np.asarray(ex.epoch_order(n, seed, 1))
    expect.that(np.array_equal(again, orders[1]), call=f"epoch_order({n}, seed={seed}, 1) twice",
                expected="the same order both times", returned=f"{orders[1].tolist()} and {again.tolist()}",
                hint="draw from a generator made from (seed, epoch) alone, not from a global random state.")


@pytest.mark.exercise("epoch_order", points=2)
@expect.concise_errors
def test_epoch_order_values(ex):
    n, seed, epoch = 9, 3, 2
    got = np.asarray(ex.epoch_order(n, seed, epoch))
    want = np.random.default_rng((seed, epoch)).permutation(n)
    slips = [("the generator was seeded with seed + epoch: (seed 3, epoch 2) and (seed 2, epoch 3) would share "
              "an order. Seed it with the pair, default_rng((seed, epoch)).",
              np.random.default_rng(seed + epoch).permutation(n)),
             ("the generator was seeded with the seed alone.", np.random.default_rng(seed).permutation(n))]
    hint = next((what for what, value in slips if np.array_equal(got, value)),
                "the order the docstring pins down: a permutation of n from a generator seeded with the seed and "
                "the epoch together. The README's paragraph on seeding, under \"A data loader, PyTorch's way, in "
                "NumPy\", says how.")
    expect.equal(got.astype(np.int64), want.astype(np.int64), call=f"epoch_order({n}, seed={seed}, epoch={epoch})",
                 hint=hint)


# ---------------------------------------------------------------- collate

@pytest.mark.exercise("collate", points=2)
@expect.concise_errors
def test_collate(ex):
    data = _data(2, 5)
    examples = [{k: v[i] for k, v in data.items()} for i in (4, 0, 2)]
    got = ex.collate(examples)
    call = "collate([example 4, example 0, example 2]), examples {'x': uint8 (4,), 'y': int32, 'id': int32}"
    expect.that(isinstance(got, dict) and set(got) == set(data), call=call,
                expected=f"a dict with the keys {sorted(data)}",
                returned=f"a dict with the keys {sorted(got)}" if isinstance(got, dict) else expect.show(got),
                hint="every key of the examples, each stacked: forget one and the batch loses that field.")
    expect.equal({k: np.asarray(v) for k, v in got.items()}, {k: v[[4, 0, 2]] for k, v in data.items()}, call=call,
                 hint="np.stack of each key's values, in the examples' order, keeping their dtype.")


# ---------------------------------------------------------------- batches

def _batches_case(ex, drop_last):
    data, seed, epoch = _data(3, 10), 7, 2
    with doc.on_documented(ex, "batches"):
        got = list(ex.batches(doc.ArrayDataset(data), BATCH, seed, epoch, drop_last=drop_last))
    return got, doc.expected_batches(data, BATCH, seed, epoch, drop_last)


def _as_numpy(batches):
    return [{k: np.asarray(v) for k, v in b.items()} if isinstance(b, dict) else b for b in batches]


@pytest.mark.exercise("batches", points=2)
@expect.concise_errors
def test_batches_one_epoch(ex):
    got, want = _batches_case(ex, drop_last=False)
    call = (f"list(batches(ArrayDataset(data), {BATCH}, seed=7, epoch=2)), 10 examples, on the docstring's "
            "epoch_order and collate")
    expect.that(len(got) == len(want), call=call, expected=f"{len(want)} batches (4, 4 and a short one of 2)",
                returned=f"{len(got)} batches", hint="without drop_last, the last, short chunk is a batch too.")
    expect.equal(_as_numpy(got), want, call=call,
                 hint="the examples in the epoch's order from epoch_order, batch_size at a time, each chunk "
                      "collated.")


@pytest.mark.exercise("batches", points=1)
@expect.concise_errors
def test_batches_drop_last(ex):
    got, want = _batches_case(ex, drop_last=True)
    call = (f"list(batches(ArrayDataset(data), {BATCH}, seed=7, epoch=2, drop_last=True)), 10 examples, on the "
            "docstring's epoch_order and collate")
    expect.that(len(got) == len(want), call=call, expected=f"{len(want)} full batches", returned=f"{len(got)} batches, "
                f"of sizes {[len(np.asarray(b['id'])) for b in got if isinstance(b, dict)]}",
                hint="drop_last skips the short last chunk, and only that one.")
    expect.equal(_as_numpy(got), want, call=call, hint="the same batches as without drop_last, less the short one.")


# ---------------------------------------------------------------- grain_dataset

GRAIN_BATCH, GRAIN_EPOCHS = 3, 4
GRAIN_CALL = (f"grain_dataset(data, batch_size={GRAIN_BATCH}, seed=11, num_epochs={GRAIN_EPOCHS}), 10 examples, on "
              "the docstring's ArrayDataset")


def _grain(ex, data, batch_size=GRAIN_BATCH, seed=11, num_epochs=GRAIN_EPOCHS):
    with doc.on_documented(ex, "grain_dataset"):
        return ex.grain_dataset(data, batch_size, seed, num_epochs)


@pytest.mark.exercise("grain_dataset", points=3)
@expect.concise_errors
def test_grain_dataset_epochs(ex):
    data = _data(4, 10)
    got = list(_grain(ex, data))
    per_epoch = 10 // GRAIN_BATCH
    expect.that(len(got) == GRAIN_EPOCHS * per_epoch, call=f"list({GRAIN_CALL})",
                expected=f"{GRAIN_EPOCHS * per_epoch} batches of {GRAIN_BATCH} ({per_epoch} an epoch, the short one "
                "dropped)", returned=f"{len(got)} batches",
                hint="batch(batch_size, drop_remainder=True), then repeat(num_epochs).")
    for b in got:
        expect.that(isinstance(b, dict) and set(b) == set(data) and np.shape(b["id"]) == (GRAIN_BATCH,),
                    call=f"list({GRAIN_CALL})", expected=f"batches that are dicts of {GRAIN_BATCH} stacked examples",
                    returned=expect.show(b), hint="grain's batch stacks a batch of dicts into a dict of arrays.")
        ids = np.asarray(b["id"])
        expect.close({"x": np.asarray(b["x"]), "y": np.asarray(b["y"])},
                     {"x": data["x"][ids].astype(np.float32) / 255.0, "y": data["y"][ids]},
                     call=f"list({GRAIN_CALL}): the batch holding examples {ids.tolist()}", rtol=0, atol=1e-7,
                     hint="map each batch through to_model: x as float32 in [0, 1].")
    epochs = [sum(_ids(got[e * per_epoch:(e + 1) * per_epoch]), []) for e in range(GRAIN_EPOCHS)]
    expect.that(all(len(set(e)) == len(e) for e in epochs), call=f"list({GRAIN_CALL})",
                expected="no example twice within an epoch", returned=f"epochs {epochs}",
                hint="shuffle before batching and repeating: grain's shuffle visits every example once per epoch.")
    expect.that(all(epochs[e] != epochs[e + 1] for e in range(GRAIN_EPOCHS - 1)), call=f"list({GRAIN_CALL})",
                expected="a new order in every epoch", returned=f"epochs {epochs}",
                hint="shuffle with the seed, then repeat: repeat reseeds the shuffle each epoch. Repeating the same "
                     "shuffled list, or shuffling only once over all epochs' batches, does not.")
    groups = [{frozenset(ids) for ids in _ids(got[e * per_epoch:(e + 1) * per_epoch])} for e in range(2)]
    expect.that(groups[0] != groups[1], call=f"list({GRAIN_CALL})",
                expected="examples grouped into new batches every epoch", returned=f"the same groups in epochs 0 and 1: "
                f"{_ids(got[:per_epoch])} and {_ids(got[per_epoch:2 * per_epoch])}",
                hint="shuffle the examples, then batch: shuffling whole batches keeps the same examples together "
                     "every epoch.")
    expect.that(epochs[0] != list(range(len(epochs[0]))) and sorted(epochs[0]) != epochs[0], call=f"list({GRAIN_CALL})",
                expected="a shuffled first epoch", returned=f"{epochs[0]}", hint="shuffle(seed=seed) before batching.")
    again = _ids(_grain(ex, data))
    other = _ids(_grain(ex, data, seed=12))
    expect.that(again == _ids(got) and other != again, call=GRAIN_CALL + " twice, then with seed=12",
                expected="the same batches from the same seed, others from another seed",
                returned=f"{'the same' if again == _ids(got) else 'different'} batches, then "
                         f"{'others' if other != again else 'the same ones'}",
                hint="the order must come from the seed argument alone.")


@pytest.mark.exercise("grain_dataset", points=2)
@expect.concise_errors
def test_grain_dataset_resumes_from_a_saved_state(ex):
    data = _data(5, 10)
    dataset = _grain(ex, data)
    unbroken = iter(dataset)
    first = [next(unbroken) for _ in range(4)]
    state = unbroken.get_state()
    rest = _ids([next(unbroken) for _ in range(4)])
    resumed = iter(dataset)
    resumed.set_state(json.loads(json.dumps(state)))
    again = _ids([next(resumed) for _ in range(4)])
    call = (f"it = iter({GRAIN_CALL}); 4 batches; state = it.get_state(); a new iterator's set_state(state), "
            "then 4 batches from each")
    expect.that(again == rest and _ids(first) != rest[:4], call=call, expected=f"the same batches from both: {rest}",
                returned=f"{again} from the restored iterator",
                hint="build the pipeline from the seed alone, with grain's own shuffle and repeat: then its "
                     "iterator's state is the position, and the order after it is the same every time.")


# ---------------------------------------------------------------- prefetch_to_device

def _source_batches(total=7):
    return [{"x": np.full((2, 3), i, np.float32), "id": np.array([2 * i, 2 * i + 1], np.int32)} for i in range(total)]


@pytest.mark.exercise("prefetch_to_device", points=2)
@expect.concise_errors
def test_prefetch_yields_every_batch_on_the_device(ex):
    items = _source_batches()
    got = list(ex.prefetch_to_device(doc.Recording(items), size=2))
    call = "list(prefetch_to_device(iterator, size=2)), an iterator of 7 batches (dicts of NumPy arrays)"
    expect.that(len(got) == len(items), call=call, expected="7 batches", returned=f"{len(got)} batches",
                hint="yield every batch: the ones still in the deque when the iterator ends, too.")
    expect.equal(_as_numpy(got), items, call=call, hint="the batches in the order the iterator gave them.")
    kinds = sorted({type(leaf).__name__ for b in got for leaf in jax.tree.leaves(b)})
    expect.that(all(isinstance(leaf, jax.Array) for b in got for leaf in jax.tree.leaves(b)), call=call,
                expected="batches of jax arrays, already on the device", returned=f"leaves of type {kinds}",
                hint="jax.device_put(batch) each batch as you take it: the transfer starts then, not when the "
                     "step needs it.")


@pytest.mark.exercise("prefetch_to_device", points=2, concept=True)
@expect.concise_errors
def test_prefetch_runs_ahead_of_the_consumer(ex):
    items = _source_batches()
    for size in (1, 3):
        source = doc.Recording(items)
        taken = []
        for _ in ex.prefetch_to_device(source, size=size):
            taken.append(source.taken)
        want = [min(k + size + 1, len(items)) for k in range(len(items))]
        expect.that(taken == want, call=f"prefetch_to_device(iterator, size={size}), counting the batches taken from "
                    "the iterator when the consumer receives batch k = 0, 1, ...", expected=f"{want}",
                    returned=f"{taken}",
                    hint="fill the deque before yielding: once it holds more than size batches, yield the oldest. "
                         "Taking every batch first holds the whole data set on the device; taking one at a time "
                         "leaves the device waiting for each transfer." if taken != want else None)


# ---------------------------------------------------------------- time_step

@pytest.mark.exercise("time_step", points=1)
@expect.concise_errors
def test_time_step_returns_the_output_and_seconds(ex):
    events = []
    x = np.arange(6, dtype=np.float32)
    result = ex.time_step(jax.jit(lambda v: v * 2.0), x, clock=doc.fake_clock(events, [10.0, 10.25]))
    call = "time_step(jax.jit(lambda v: v * 2.0), x, clock=clock), a clock that reads 10.0, then 10.25"
    expect.that(isinstance(result, (tuple, list)) and len(result) == 2, call=call, expected="(output, seconds)",
                returned=expect.show(result), hint="return the step's output and the time it took.")
    expect.close(result[0], x * 2.0, call=call + ": the output", hint="return what the step returned.")
    expect.close(float(result[1]), 0.25, call=call + ": the seconds",
                 hint="the second clock reading minus the first; read the clock once before and once after.")


@pytest.mark.exercise("time_step", points=2, concept=True)
@expect.concise_errors
def test_time_step_waits_for_the_device_before_reading_the_clock(ex):
    events = []
    ex.time_step(doc.fake_step(events, 1.5), np.float32(1.0), clock=doc.fake_clock(events, [3.0, 4.0]))
    want = ["clock read", "step called", "output blocked on", "clock read"]
    if "output blocked on" not in events:
        hint = ("the clock stopped without waiting for the output: JAX returns from a call as soon as the work is "
                "queued, so this timed the dispatch. jax.block_until_ready(output) before the second reading.")
    elif events[-1] == "output blocked on":
        hint = ("the clock stopped before the output was ready: it timed the dispatch. Block on the output first, "
                "then read the clock.")
    else:
        hint = "read the clock, call the step, block on its output, read the clock."
    expect.that(events == want, call="time_step(step, x, clock=clock), a step whose output notes when it is "
                "blocked on, and a clock that notes each reading", expected=f"the events {want}", returned=f"{events}",
                hint=hint)


# ---------------------------------------------------------------- pad_batch

@pytest.mark.exercise("pad_batch", points=2)
@expect.concise_errors
def test_pad_batch(ex):
    data = doc.to_model(_data(6, 3))
    call = "pad_batch(batch, 5), a batch of 3 rows {'x': float32 (3, 4), 'y': int32 (3,), 'id': int32 (3,)}"
    result = ex.pad_batch(data, 5)
    expect.that(isinstance(result, (tuple, list)) and len(result) == 2, call=call, expected="(padded, mask)",
                returned=expect.show(result), hint="return the padded batch and its mask.")
    padded, mask = result
    want = {k: np.concatenate([v, np.zeros((2,) + v.shape[1:], v.dtype)]) for k, v in data.items()}
    expect.equal({k: np.asarray(v) for k, v in padded.items()}, want, call=call + ": the padded batch",
                 hint="every array gets batch_size rows: its own rows first, then rows of zeros of its dtype.")
    expect.equal(np.asarray(mask), np.array([True, True, True, False, False]), call=call + ": the mask",
                 hint="a bool array of batch_size entries, True for the real rows.")
    full, full_mask = ex.pad_batch(data, 3)
    expect.equal(({k: np.asarray(v) for k, v in full.items()}, np.asarray(full_mask)), (data, np.ones(3, bool)),
                 call="pad_batch(batch, 3), a full batch of 3 rows", hint="a full batch needs no padding: all True.")


@pytest.mark.exercise("pad_batch", points=1, concept=True)
@expect.concise_errors
def test_pad_batch_keeps_one_compiled_program(ex):
    traces = []

    @jax.jit
    def program(batch, mask):  # any dtypes will do: test_pad_batch judges them, this test the traces alone
        traces.append(1)
        return [jnp.sum(a) for a in jax.tree.leaves(batch)], jnp.sum(mask)

    data = doc.to_model(_data(7, 10))
    shapes = []
    for lo in range(0, 10, BATCH):
        batch, mask = ex.pad_batch({k: v[lo:lo + BATCH] for k, v in data.items()}, BATCH)
        shapes.append(jax.tree.map(lambda a: (np.shape(a), np.asarray(a).dtype.name), (batch, mask)))
        program(batch, mask)
    expect.that(len(traces) == 1, call="a jitted function of (padded, mask) from pad_batch(chunk, 4) for chunks of "
                "4, 4 and 2 rows",
                expected="one trace: every padded batch the same shapes and dtypes",
                returned=f"{len(traces)} traces, for {shapes}",
                hint="pad the short batch to batch_size, and give the mask one dtype (bool) for full and short "
                     "batches alike: a new shape or dtype compiles a new program.")


# ---------------------------------------------------------------- bucket_size

@pytest.mark.exercise("bucket_size", points=2)
@expect.concise_errors
def test_bucket_size(ex):
    buckets = (32, 8, 16)
    cases = {1: 8, 7: 8, 8: 8, 9: 16, 16: 16, 17: 32, 32: 32}
    got = {n: expect.or_none(lambda n=n: int(ex.bucket_size(n, buckets))) for n in cases}
    wrong = {n: g for n, g in got.items() if g != cases[n]}
    first_fit = {n: next((b for b in buckets if b >= n), None) for n in cases}
    above = {n: min((b for b in buckets if b > n), default=None) for n in cases}
    if wrong and all(got[n] == first_fit[n] for n in cases):
        hint = "the buckets come in any order: take the smallest that fits, not the first that fits."
    elif wrong and all(got[n] == above[n] for n in cases if above[n] is not None):
        hint = "a batch of exactly a bucket's size fits that bucket: b >= n, not b > n."
    else:
        hint = "the smallest bucket that holds n rows: min(b for b in buckets if b >= n)."
    expect.that(not wrong, call=f"bucket_size(n, buckets={buckets}) for n in {list(cases)}",
                expected=f"{list(cases.values())}", returned=f"{list(got.values())}", hint=hint)
    expect.raises(ValueError, ex.bucket_size, 33, buckets, call=f"bucket_size(33, buckets={buckets})",
                  hint="no bucket holds 33 rows: raise a ValueError rather than pick a bucket too small.")


@pytest.mark.exercise("bucket_size", points=1, concept=True)
@expect.concise_errors
def test_buckets_bound_the_compiles(ex):
    traces = []

    @jax.jit
    def total(batch, mask):
        traces.append(1)
        return jnp.sum(jnp.where(mask, batch["x"][:, 0], 0.0))

    data = doc.to_model(_data(11, 16))
    sizes = []
    call = "a jitted function on batches of 1 to 16 rows, each padded to bucket_size(n, (4, 8, 16)) with the "\
           "docstring's pad_batch"
    for n in range(1, 17):
        try:
            sizes.append(int(ex.bucket_size(n, (4, 8, 16))))
        except Exception as err:  # a bucket_size that fails on a size that fits: test_bucket_size says how
            raise expect.failure(call, "3 traces, one a bucket", f"bucket_size({n}, (4, 8, 16)): " + expect.raised(err),
                                 "every n up to the largest bucket fits one; test_bucket_size shows which.") from None
        total(*doc.pad_batch({k: v[:n] for k, v in data.items()}, sizes[-1]))
    expect.that(len(traces) == 3, call=call,
                expected="3 traces, one a bucket", returned=f"{len(traces)} traces, for the sizes {sizes}",
                hint="every n maps to one of the buckets, so only len(buckets) shapes ever reach jit.")


# ---------------------------------------------------------------- masked_loss

@pytest.mark.exercise("masked_loss", points=2)
@expect.concise_errors
def test_masked_loss_ignores_the_padding(ex):
    data = doc.to_model(_data(8, 6))
    params = doc.init_state(1, optax.sgd(0.1))["params"]
    real = {k: data[k][:4] for k in ("x", "y")}
    x64 = real["x"].astype(np.float64) @ np.asarray(params["w"], np.float64) + np.asarray(params["b"], np.float64)
    z = x64 - x64.max(axis=1, keepdims=True)
    want = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(4), real["y"]]))
    loss = jax.jit(lambda p, b, m: ex.masked_loss(p, b, m))
    with doc.on_documented(ex, "masked_loss"):
        zeros = loss(params, {"x": np.concatenate([real["x"], np.zeros((2, 4), np.float32)]),
                              "y": np.concatenate([real["y"], np.zeros(2, np.int32)])}, np.arange(6) < 4)
        # Not under jit: XLA may turn a product with a converted mask into a select, and hide the NaN.
        garbage = ex.masked_loss(params, {"x": np.concatenate([real["x"], np.full((2, 4), np.inf, np.float32)]),
                                          "y": np.concatenate([real["y"], np.array([0, 2], np.int32)])},
                                 np.arange(6) < 4)
        plain = loss(params, real, np.ones(4, bool))
        empty = loss(params, {"x": np.zeros((4, 4), np.float32), "y": np.zeros(4, np.int32)}, np.zeros(4, bool))
    expect.close(float(plain), want, call="masked_loss(params, batch, mask), 4 rows, all real", rtol=1e-5, atol=1e-6,
                 hint="the mean cross-entropy of the logits against the labels.")
    hint = ("the padded rows were counted: divide the sum over the real rows by their number (mask.sum()), not "
            "by the batch size." if abs(float(zeros) - want * 4 / 6) < 1e-5 else
            "zero the padded rows' losses with jnp.where(mask, losses, 0), then divide by the number of real rows.")
    expect.close(float(zeros), want, call="masked_loss(params, batch, mask), 4 real rows and 2 rows of zeros",
                 rtol=1e-5, atol=1e-6, hint=hint)
    expect.close(float(garbage), want, call="masked_loss(params, batch, mask), not jitted, 4 real rows and 2 padded rows of inf",
                 rtol=1e-5, atol=1e-6,
                 hint="a padded row's loss can be NaN, and NaN * 0 is NaN: multiplying by a float copy of the mask "
                      "keeps it. Pick the real rows with jnp.where(mask, losses, 0)." if not np.isfinite(float(garbage))
                 else hint)
    expect.that(np.isfinite(float(empty)) and float(empty) == 0.0,
                call="masked_loss(params, batch, mask), 4 rows, all padding (mask all False)", expected="0.0",
                returned=f"{float(empty)}",
                hint="0 / 0 is NaN: with no real row the count is 0, so divide by jnp.maximum(mask.sum(), 1), as the "
                     "docstring says. A batch of padding alone must not turn the run's loss into NaN."
                if not np.isfinite(float(empty)) else "no real row, so no loss: the sum over the real rows is 0.")



# ---------------------------------------------------------------- make_train_step

STEP_CALL = "make_train_step(optax.adam(0.05))(state, batch, mask), on the docstring's masked_loss"


def _step_case(seed=9):
    data = doc.to_model(_data(seed, 6))
    batch, mask = {k: np.concatenate([v[:3], np.zeros((1,) + v.shape[1:], v.dtype)]) for k, v in data.items()}, \
        np.arange(BATCH) < 3
    return batch, mask


@pytest.mark.exercise("make_train_step", points=3)
@expect.concise_errors
def test_train_step_values(ex):
    batch, mask = _step_case()
    want_state, want_loss = _doc_step(doc.init_state(2, TX), batch, mask)
    with doc.on_documented(ex, "make_train_step"):
        step = ex.make_train_step(TX)
        result = step(doc.init_state(2, TX), batch, mask)
    expect.that(isinstance(result, (tuple, list)) and len(result) == 2, call=STEP_CALL, expected="(new_state, loss)",
                returned=expect.show(result), hint="return the new state and the loss.")
    new, loss = result
    expect.close(loss, want_loss, call=STEP_CALL + ": the loss", rtol=1e-5, atol=1e-6,
                 hint="the masked loss of the state's params, before the update.")
    expect.that(isinstance(new, dict) and set(new) == {"params", "opt_state", "step"}, call=STEP_CALL,
                expected="a new state with the keys 'params', 'opt_state' and 'step'", returned=expect.show(new),
                hint="return a state shaped as the one you were given.")
    expect.close(new["params"], want_state["params"], call=STEP_CALL + ": the new params", rtol=1e-5, atol=1e-6,
                 hint="tx.update(grads, opt_state, params), then optax.apply_updates(params, updates).")
    expect.close(new["opt_state"], want_state["opt_state"], call=STEP_CALL + ": the new opt_state", rtol=1e-5,
                 atol=1e-6, hint="return the optimizer state tx.update gave back.")
    expect.equal(np.asarray(new["step"]), np.asarray(1, np.int32), call=STEP_CALL + ": the new step",
                 hint="the state's step plus 1.")
    with doc.on_documented(ex, "make_train_step"):
        again = step(new, batch, mask)
    expect.equal(np.asarray(again[0]["step"]), np.asarray(2, np.int32), call=STEP_CALL + ", twice: the step",
                 hint="the state's step plus 1, from the state you were given.")


@pytest.mark.exercise("make_train_step", points=2, concept=True)
@expect.concise_errors
def test_train_step_donates_the_state(ex):
    batch, mask = _step_case()
    state = doc.init_state(3, TX)
    with doc.on_documented(ex, "make_train_step"):
        step = ex.make_train_step(TX)
        lower = getattr(step, "lower", None)
        expect.that(callable(lower), call="make_train_step(tx)", expected="a function compiled with jax.jit",
                    returned=expect.show(step),
                    hint="return the step compiled with jax.jit, donating the state (donate_argnums).")
        args, _ = lower(state, batch, mask).args_info
    donated = [info.donated for info in jax.tree.leaves(args[0])]
    expect.that(all(donated), call="make_train_step(tx).lower(state, batch, mask).args_info, the state's arrays",
                expected="every array of the state donated", returned=f"{sum(donated)} of {len(donated)} donated",
                hint="donate the state, argument 0 (donate_argnums=0 in jax.jit): it is dead after the step, so XLA "
                     "may reuse its buffers for the new one instead of holding both.")


# ---------------------------------------------------------------- checkpoints

CKPT_SEED, CKPT_EPOCHS = 13, 4


def _ckpt_dataset():
    return doc.grain_dataset(_data(10, 10), BATCH, CKPT_SEED, CKPT_EPOCHS)


def _train(state, iterator, steps):
    """`steps` steps of the tests' own step on the iterator's batches: (state, the ids of the batches used)."""
    used = []
    for _ in range(steps):
        batch = next(iterator)
        used.append(np.asarray(batch["id"]).tolist())
        state, _ = _doc_step(state, batch, _mask())
    return state, used


@pytest.mark.exercise("save_checkpoint", points=2)
@expect.concise_errors
def test_save_checkpoint_writes_the_state_and_the_position(ex, tmp_path):
    dataset = _ckpt_dataset()
    iterator = iter(dataset)
    state, _ = _train(doc.init_state(4, TX), iterator, 2)
    where = tmp_path / "run" / "ckpt"
    ex.save_checkpoint(str(where), state, iterator)
    call = "save_checkpoint(directory, state, iterator) after 2 steps, then reading directory/state with orbax and "\
           "directory/data.json"
    outside = sorted(p.name for p in tmp_path.iterdir() if p.name != "run")
    inside = sorted(p.name for p in where.iterdir()) if where.is_dir() else []
    unfinished = [name for name in inside if "orbax-checkpoint-tmp" in name]
    expect.that(not outside and (where / "state").is_dir() and (where / "data.json").is_file(), call=call,
                expected="directory/state (orbax's folder) and directory/data.json",
                returned=f"in the directory: {inside if where.is_dir() else 'nothing'}"
                         f"{'; outside it: ' + str(outside) if outside else ''}",
                hint=f"{unfinished[0]} is orbax's folder while it is still writing: ckptr.save returns at once and "
                     "writes in the background. Call ckptr.wait_until_finished() before save_checkpoint returns."
                if unfinished else
                "ckptr.save(os.path.join(directory, 'state'), state), and json.dump(iterator.get_state()) to "
                "os.path.join(directory, 'data.json').")
    got_state, got_position = doc.read_checkpoint(where, doc.init_state(5, TX))
    expect.equal(got_state, state, call=call + ": the state", hint="save the whole state: params, opt_state and step.")
    expect.that(got_position == iterator.get_state(), call=call + ": the iterator's position",
                expected=f"{iterator.get_state()}", returned=f"{got_position}",
                hint="save iterator.get_state() as it is when save_checkpoint is called.")


@pytest.mark.exercise("restore_checkpoint", points=3)
@expect.concise_errors
def test_restore_checkpoint_resumes_bit_for_bit(ex, tmp_path):
    dataset = _ckpt_dataset()
    unbroken = iter(dataset)
    state, used = _train(doc.init_state(6, TX), unbroken, 5)
    stopped = iter(dataset)
    half, _ = _train(doc.init_state(6, TX), stopped, 2)
    doc.save_checkpoint(tmp_path / "ckpt", half, stopped)
    call = ("2 steps, save_checkpoint, then restore_checkpoint(directory, state_like, dataset) and 3 steps more, "
            "against 5 steps unbroken")
    result = ex.restore_checkpoint(str(tmp_path / "ckpt"), doc.init_state(7, TX), dataset)
    expect.that(isinstance(result, (tuple, list)) and len(result) == 2, call=call, expected="(state, iterator)",
                returned=expect.show(result), hint="return the restored state and the moved iterator.")
    restored, iterator = result
    resumed, resumed_used = _train(restored, iterator, 3)
    every = _ids(iter(dataset))  # the whole run's batches, in order: 2 an epoch
    ahead = next((k for k in range(1, len(every) - 4) if resumed_used == every[2 + k:5 + k]), None)
    if resumed_used == every[:3]:
        hint = ("a new iter(dataset), then set_state with the position saved in data.json: a fresh iterator "
                "starts the data over, and the model sees the first batches twice.")
    elif ahead:
        hint = (f"the restored iterator is {ahead} batch{'es' if ahead > 1 else ''} ahead of where the run stopped: "
                f"the model never sees {'those' if ahead > 1 else 'that one'}. set_state(saved position) alone puts "
                "the new iterator where the saved one was; take no batch from it before returning it.")
    else:
        hint = ("a new iter(dataset), then set_state with the position saved in data.json: the run goes on with "
                "the batch after the last one it trained on.")
    expect.that(resumed_used == used[2:], call=call + ": the batches of steps 3 to 5",
                expected=f"the unbroken run's: {used[2:]}", returned=f"{resumed_used}", hint=hint)
    expect.equal(resumed["step"], state["step"], call=call + ": the step",
                 hint="restore the saved state, not state_like: state_like only tells orbax the shapes and dtypes.")
    expect.equal(resumed["params"], state["params"], call=call + ": the params", hint="restore the saved params.")
    expect.equal(resumed["opt_state"], state["opt_state"], call=call + ": the opt_state",
                 hint="restore the optimizer's state too: Adam's moments are part of where the run was.")


# ---------------------------------------------------------------- split_step_times

@pytest.mark.exercise("split_step_times", points=2)
@expect.concise_errors
def test_split_step_times(ex):
    times = np.array([[100.0, 100.5, 100.75, 102.0],  # a clock that doesn't start at 0, as perf_counter's doesn't
                      [102.25, 102.5, 103.0, 104.5],
                      [105.0, 106.0, 106.25, 107.0]])
    got = ex.split_step_times(times)
    want = {"data": 1.75, "transfer": 1.0, "compute": 3.5, "host": 0.75}
    call = ("split_step_times(times), 3 steps: [[100, 100.5, 100.75, 102], [102.25, 102.5, 103, 104.5], "
            "[105, 106, 106.25, 107]]")
    expect.that(isinstance(got, dict) and set(got) == set(want), call=call, expected=f"a dict with the keys {sorted(want)}",
                returned=expect.show(got), hint="data, transfer, compute and host, each a total over the steps.")
    got = {k: float(v) for k, v in got.items()}
    host_only = all(abs(got[k] - want[k]) < 1e-9 for k in ("data", "transfer", "compute"))
    hint = ("host is only the gaps between one step's done and the next step's asked: 0.25 + 0.5 here. Nothing "
            "before the first asked counts, and the clock's own start (100 here) is no time the loop spent."
            if host_only and abs(got["host"] - want["host"] - times[0, 0]) < 1e-9 else
            "host is the time between one step's done and the next step's asked: 0.25 + 0.5 here."
            if host_only else
            "data = got - asked, transfer = sent - got, compute = done - sent, each summed over the steps.")
    expect.close(got, want, call=call, rtol=0, atol=1e-9, hint=hint)
