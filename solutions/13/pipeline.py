"""Lesson 13: feeding the device, and what a step costs.

A training loop is a loop over batches. This lesson builds what feeds it and looks at what each step
costs: a PyTorch-style data loader written in NumPy, the same pipeline in grain, batches prefetched to the
device, timing that waits for the device, padding that keeps one compiled program, donated buffers, and a
checkpoint that resumes a run bit for bit, data iterator included.

The data is a dict of NumPy arrays with the same first axis, one row per example:

    {"x": uint8, (n, 4), the raw features,  "y": int32, (n,), the labels (3 classes)}

and the model a linear classifier, given in full below, trained with an optax optimizer on a state

    {"params": {"w": (4, 3), "b": (3,)}, "opt_state": tx.init(params), "step": int32 scalar}
"""
import collections
import json
import os
import time

import grain
import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp

FEATURES, CLASSES = 4, 3


# ---------------------------------------------------------------- given in full

def make_data(seed, n):
    """Given in full. n examples: {"x": uint8 (n, 4), "y": int32 (n,)}, from a fixed seed."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n).astype(np.int32)
    x = np.clip(rng.normal(80 + 50 * y[:, None], 40, (n, FEATURES)), 0, 255).astype(np.uint8)
    return {"x": x, "y": y}


def to_model(batch):
    """Given in full. A batch as the model takes it: x as float32 in [0, 1]; every other key unchanged."""
    return {**batch, "x": np.asarray(batch["x"], np.float32) / 255.0}


def init_state(seed, tx):
    """Given in full. A training state: small random params, tx's state for them, and step 0."""
    rng = np.random.default_rng(seed)
    params = {"w": jnp.asarray(rng.normal(0, 0.5, (FEATURES, CLASSES)), jnp.float32),
              "b": jnp.zeros((CLASSES,), jnp.float32)}
    return {"params": params, "opt_state": tx.init(params), "step": jnp.zeros((), jnp.int32)}


def logits(params, x):
    """Given in full. The linear model: x (batch, 4) float -> logits (batch, 3)."""
    return x @ params["w"] + params["b"]


# ---------------------------------------------------------------- a data loader, PyTorch's way

class ArrayDataset:
    """A map-style dataset (PyTorch's `Dataset`) over a dict of arrays that share their first axis.

    `ArrayDataset(data)`; `len(ds)` is the number of examples; `ds[i]` is example i, a dict with the same
    keys as `data`, each value `data[key][i]` (one row: for "x" an array of shape (4,), for "y" a scalar).
    Keep a reference to the arrays; copy nothing up front.
    """

    def __init__(self, data):
        ### BEGIN SOLUTION
        self.data = data
        ### END SOLUTION

    def __len__(self):
        ### BEGIN SOLUTION
        return len(next(iter(self.data.values())))
        ### END SOLUTION

    def __getitem__(self, i):
        ### BEGIN SOLUTION
        return {key: value[i] for key, value in self.data.items()}
        ### END SOLUTION


def epoch_order(n, seed, epoch):
    """The sampler: the order in which one epoch visits the n examples, an int array of shape (n,).

    Every index 0..n-1 appears exactly once. The order depends on the seed and on the epoch: the same
    (seed, epoch) gives the same order, another epoch another order. Draw it from a generator seeded
    with both numbers: `np.random.default_rng((seed, epoch)).permutation(n)`.
    """
    ### BEGIN SOLUTION
    return np.random.default_rng((seed, epoch)).permutation(n)
    ### END SOLUTION


def collate(examples):
    """Stack a list of examples (dicts with the same keys) into one batch: a dict with every key, each
    value `np.stack` of that key's values, so a batch's first axis is the example. Keep the dtypes."""
    ### BEGIN SOLUTION
    return {key: np.stack([example[key] for example in examples]) for key in examples[0]}
    ### END SOLUTION


def batches(dataset, batch_size, seed, epoch, drop_last=False):
    """A generator of one epoch's batches (PyTorch's `DataLoader` with `shuffle=True`).

    Visit the examples in `epoch_order(len(dataset), seed, epoch)`, take them `batch_size` at a time,
    and yield `collate([dataset[i] for i in chunk])` for each chunk. The last chunk may be short: with
    `drop_last=True` skip it, otherwise yield it as it is.
    """
    ### BEGIN SOLUTION
    order = epoch_order(len(dataset), seed, epoch)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        if drop_last and len(chunk) < batch_size:
            return
        yield collate([dataset[int(i)] for i in chunk])
    ### END SOLUTION


# ---------------------------------------------------------------- the same pipeline in grain

def grain_dataset(data, batch_size, seed, num_epochs):
    """The pipeline in grain: returns a `grain.IterDataset` of batches.

    Start from `grain.MapDataset.source(ArrayDataset(data))` (any object with `__len__` and `__getitem__`
    is a source), then:
      - shuffle with the seed (`.shuffle(seed=seed)`), so each epoch visits every example once;
      - batch `batch_size` examples at a time, dropping a short last batch (`drop_remainder=True`): grain
        stacks a batch of dicts into a dict of arrays, as `collate` does;
      - `.map(to_model)` on each batch;
      - `.repeat(num_epochs)`, which reshuffles every epoch (its `reseed_each_epoch` is on by default);
      - `.to_iter_dataset()`, the iterable the training loop reads.

    `iter(dataset)` then gives an iterator whose `get_state()` is a small dict of plain numbers, and
    `set_state(state)` on a new iterator carries on from exactly there. Use no worker processes.
    """
    ### BEGIN SOLUTION
    return (grain.MapDataset.source(ArrayDataset(data))
            .shuffle(seed=seed)
            .batch(batch_size, drop_remainder=True)
            .map(to_model)
            .repeat(num_epochs)
            .to_iter_dataset())
    ### END SOLUTION


# ---------------------------------------------------------------- prefetching to the device

def prefetch_to_device(iterator, size=2):
    """A generator that yields the batches of `iterator` in order, each already on the device, keeping
    `size` batches ahead of the consumer.

    Hold a `collections.deque`. Take batches from `iterator` one at a time, put each on the device
    (`jax.device_put(batch)`, which moves a whole dict of arrays) and append it; once the deque holds
    more than `size` batches, yield the oldest. When the iterator ends, yield what is left. So when the
    consumer receives batch k (counting from 0), batches k+1 .. k+size have already been taken from
    `iterator` and sent to the device, and no more: `k + size + 1` taken in all (or every batch, at the end).
    """
    ### BEGIN SOLUTION
    queue = collections.deque()
    for batch in iterator:
        queue.append(jax.device_put(batch))
        if len(queue) > size:
            yield queue.popleft()
    while queue:
        yield queue.popleft()
    ### END SOLUTION


# ---------------------------------------------------------------- timing a step

def time_step(step, *args, clock=time.perf_counter):
    """Run `step(*args)` once and time it. Returns `(output, seconds)`.

    JAX dispatches asynchronously: `step(*args)` returns as soon as the work is queued, before the device
    has computed it. Read `clock()`, call the step, wait for its output with `jax.block_until_ready(output)`
    and only then read `clock()` again; `seconds` is the second reading minus the first.
    """
    ### BEGIN SOLUTION
    start = clock()
    output = jax.block_until_ready(step(*args))
    return output, clock() - start
    ### END SOLUTION


# ---------------------------------------------------------------- one shape, one program

def pad_batch(batch, batch_size):
    """Pad a short batch to `batch_size` rows. Returns `(padded, mask)`.

    batch: a dict of arrays with n <= batch_size rows. `padded` has the same keys and dtypes, every array
    with batch_size rows: the n real rows, then zeros. `mask`: bool, shape (batch_size,), True for the
    n real rows. A full batch comes back with the same arrays' values and a mask of all True.
    """
    ### BEGIN SOLUTION
    n = len(next(iter(batch.values())))
    padded = {key: np.concatenate([np.asarray(value), np.zeros((batch_size - n,) + np.shape(value)[1:],
                                                                 np.asarray(value).dtype)])
              for key, value in batch.items()}
    return padded, np.arange(batch_size) < n
    ### END SOLUTION


def bucket_size(n, buckets):
    """The batch size to pad a batch of n rows to: the smallest of `buckets` that holds n rows.

    buckets: a few sizes, in any order, e.g. (16, 64, 256). n == a bucket fits that bucket exactly. With
    padding to buckets, batches of any size from 1 to max(buckets) compile at most len(buckets) programs.
    An n larger than every bucket raises a ValueError.
    """
    ### BEGIN SOLUTION
    fits = [b for b in buckets if b >= n]
    if not fits:
        raise ValueError(f"{n} rows fit in no bucket of {sorted(buckets)}")
    return min(fits)
    ### END SOLUTION


def masked_loss(params, batch, mask):
    """The mean softmax cross-entropy over the real rows of a padded batch.

    batch: {"x": float (b, 4), "y": int (b,)}; mask: bool (b,). Take the cross-entropy of every row
    (`optax.softmax_cross_entropy_with_integer_labels(logits(params, batch["x"]), batch["y"])`), zero
    the padded rows with `jnp.where(mask, ..., 0)` (a padded row may hold anything, even values whose
    loss is NaN: a product with the bool mask compiles to the same select, but a product with a float
    copy of it keeps the NaN, since NaN * 0.0 is NaN), and divide the sum by the number of real rows, at
    least 1 (a batch of padding alone has loss 0). Padded rows count for nothing, so the loss equals the
    unpadded batch's mean.
    """
    ### BEGIN SOLUTION
    losses = optax.softmax_cross_entropy_with_integer_labels(logits(params, batch["x"]), batch["y"])
    return jnp.sum(jnp.where(mask, losses, 0.0)) / jnp.maximum(jnp.sum(mask), 1)
    ### END SOLUTION


# ---------------------------------------------------------------- donating the state

def make_train_step(tx):
    """A compiled training step for the optimizer `tx`: returns `step(state, batch, mask) -> (state, loss)`.

    The step takes the gradient of `masked_loss(params, batch, mask)` with respect to the params, runs
    `tx.update(grads, opt_state, params)` and `optax.apply_updates`, adds 1 to the state's step, and
    returns the new state (the same keys) with the loss before the update.

    Return it compiled with `jax.jit(step, donate_argnums=0)`: the old state is not needed after the step,
    so XLA may write the new state into its buffers instead of allocating new ones. After a call, the
    state passed in is gone (its arrays are deleted): keep only the one that comes back.
    """
    ### BEGIN SOLUTION
    def step(state, batch, mask):
        loss, grads = jax.value_and_grad(masked_loss)(state["params"], batch, mask)
        updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
        return {"params": optax.apply_updates(state["params"], updates), "opt_state": opt_state,
                "step": state["step"] + 1}, loss

    return jax.jit(step, donate_argnums=0)
    ### END SOLUTION


# ---------------------------------------------------------------- checkpoints

def save_checkpoint(directory, state, iterator):
    """Save the training state and the data iterator's position under `directory` (a new folder).

    The state goes to `directory/state` with orbax: `ckptr = ocp.StandardCheckpointer()`,
    `ckptr.save(path, state)` (orbax wants an absolute path: `os.path.abspath`), then
    `ckptr.wait_until_finished()`: orbax writes in the background. The iterator's `get_state()` goes to
    `directory/data.json` with `json.dump`. Write nothing anywhere else.
    """
    ### BEGIN SOLUTION
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    ckptr = ocp.StandardCheckpointer()
    ckptr.save(os.path.join(directory, "state"), state)
    ckptr.wait_until_finished()
    with open(os.path.join(directory, "data.json"), "w") as f:
        json.dump(iterator.get_state(), f)
    ### END SOLUTION


def restore_checkpoint(directory, state_like, dataset):
    """The inverse of `save_checkpoint`. Returns `(state, iterator)`.

    state_like: a state of the same structure, shapes and dtypes (its values are not used); restore with
    `ocp.StandardCheckpointer().restore(path, abstract)`, where `abstract = jax.tree.map(
    ocp.utils.to_shape_dtype_struct, state_like)` tells orbax what to build. The iterator: a new
    `iter(dataset)` moved to the saved position with `set_state(...)`. The run goes on from both exactly
    as if it had never stopped.
    """
    ### BEGIN SOLUTION
    directory = os.path.abspath(directory)
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state_like)
    state = ocp.StandardCheckpointer().restore(os.path.join(directory, "state"), abstract)
    iterator = iter(dataset)
    with open(os.path.join(directory, "data.json")) as f:
        iterator.set_state(json.load(f))
    return state, iterator
    ### END SOLUTION


# ---------------------------------------------------------------- where a step's time goes

def split_step_times(times):
    """Where a training loop's time went, from the timestamps of its steps.

    times: float64, shape (steps, 4). Row i holds four clock readings of step i, in seconds:
      asked    the loop asks the data pipeline for the next batch
      got      the batch is in host memory
      sent     the batch is on the device (`jax.device_put` done)
      done     the step's output is ready (`block_until_ready` returned)

    Returns a dict of float totals over all steps:
      "data":     sum of got - asked (waiting for data)
      "transfer": sum of sent - got
      "compute":  sum of done - sent
      "host":     sum of the gaps between one step's done and the next step's asked (the loop's own work)
    The four add up to the last done minus the first asked.
    """
    ### BEGIN SOLUTION
    t = np.asarray(times, np.float64)
    spans = np.diff(t, axis=1).sum(axis=0)
    return {"data": float(spans[0]), "transfer": float(spans[1]), "compute": float(spans[2]),
            "host": float(np.sum(t[1:, 0] - t[:-1, 3]))}
    ### END SOLUTION
