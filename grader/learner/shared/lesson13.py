"""Lesson 13: the docstrings' versions of the exercises that later ones build on (the dataset, the sampler,
collate, the grain pipeline, the masked loss), the lesson's given model and data, and the fakes the timing
and prefetching checks hand over. The tests and the probes run `batches`, `grain_dataset`,
`make_train_step` and the checkpoints on these in place of the learner's, so a mistake in one exercise
costs that exercise's tests alone."""
import json
import os

import grain
import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp

from grader.learner import expect

FEATURES, CLASSES = 4, 3


def make_data(seed, n):
    """As the lesson's `make_data`, with an "id" column (the row's index) to tell examples apart."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n).astype(np.int32)
    x = np.clip(rng.normal(80 + 50 * y[:, None], 40, (n, FEATURES)), 0, 255).astype(np.uint8)
    return {"x": x, "y": y, "id": np.arange(n, dtype=np.int32)}


def to_model(batch):
    return {**batch, "x": np.asarray(batch["x"], np.float32) / 255.0}


def init_state(seed, tx):
    rng = np.random.default_rng(seed)
    params = {"w": jnp.asarray(rng.normal(0, 0.5, (FEATURES, CLASSES)), jnp.float32),
              "b": jnp.zeros((CLASSES,), jnp.float32)}
    return {"params": params, "opt_state": tx.init(params), "step": jnp.zeros((), jnp.int32)}


def logits(params, x):
    return x @ params["w"] + params["b"]


class ArrayDataset:
    def __init__(self, data):
        self.data = data

    def __len__(self):
        return len(next(iter(self.data.values())))

    def __getitem__(self, i):
        return {key: value[i] for key, value in self.data.items()}


def epoch_order(n, seed, epoch):
    return np.random.default_rng((seed, epoch)).permutation(n)


def collate(examples):
    return {key: np.stack([example[key] for example in examples]) for key in examples[0]}


def grain_dataset(data, batch_size, seed, num_epochs):
    return (grain.MapDataset.source(ArrayDataset(data)).shuffle(seed=seed).batch(batch_size, drop_remainder=True)
            .map(to_model).repeat(num_epochs).to_iter_dataset())


def pad_batch(batch, batch_size):
    n = len(next(iter(batch.values())))
    padded = {key: np.concatenate([np.asarray(value), np.zeros((batch_size - n,) + np.shape(value)[1:],
                                                                 np.asarray(value).dtype)])
              for key, value in batch.items()}
    return padded, np.arange(batch_size) < n


def masked_loss(params, batch, mask):
    losses = optax.softmax_cross_entropy_with_integer_labels(logits(params, batch["x"]), batch["y"])
    return jnp.sum(jnp.where(mask, losses, 0.0)) / jnp.maximum(jnp.sum(mask), 1)


def save_checkpoint(directory, state, iterator):
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    ckptr = ocp.StandardCheckpointer()
    ckptr.save(os.path.join(directory, "state"), state)
    ckptr.wait_until_finished()
    with open(os.path.join(directory, "data.json"), "w") as f:
        json.dump(iterator.get_state(), f)


def read_checkpoint(directory, state_like):
    """What `save_checkpoint` wrote: (the state, restored onto state_like's structure, the iterator state)."""
    directory = os.path.abspath(directory)
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state_like)
    state = ocp.StandardCheckpointer().restore(os.path.join(directory, "state"), abstract)
    with open(os.path.join(directory, "data.json")) as f:
        return state, json.load(f)


DOCUMENTED = {"ArrayDataset": ArrayDataset, "epoch_order": epoch_order, "collate": collate,
              "grain_dataset": grain_dataset, "pad_batch": pad_batch, "masked_loss": masked_loss, "to_model": to_model,
              "logits": logits}
BUILDS_ON = {"batches": ("epoch_order", "collate"), "grain_dataset": ("ArrayDataset", "to_model"),
             "make_train_step": ("masked_loss", "logits"), "masked_loss": ("logits",)}


def on_documented(ex, exercise):
    """The exercises that `exercise` builds on, the docstrings' versions in place of the learner's."""
    return expect.documented(ex, **{name: DOCUMENTED[name] for name in BUILDS_ON[exercise]})


def np_step(tx, state, batch, mask):
    """One documented training step, not compiled and not donating: (new state, loss)."""
    loss, grads = jax.value_and_grad(masked_loss)(state["params"], batch, mask)
    updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
    return {"params": optax.apply_updates(state["params"], updates), "opt_state": opt_state,
            "step": state["step"] + 1}, loss


def expected_batches(data, batch_size, seed, epoch, drop_last):
    """One epoch of the documented DataLoader, as a list of batches."""
    order = epoch_order(len(next(iter(data.values()))), seed, epoch)
    out = []
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        if drop_last and len(chunk) < batch_size:
            break
        out.append({key: value[chunk] for key, value in data.items()})
    return out


# ---------------------------------------------------------------- fakes that record what ran

class Recording:
    """An iterator over `items` that counts how many have been taken (`taken`)."""

    def __init__(self, items):
        self.items, self.taken = list(items), 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.taken >= len(self.items):
            raise StopIteration
        self.taken += 1
        return self.items[self.taken - 1]


class Output:
    """A step's output that notes in `events` when someone waits for it (`block_until_ready`, as
    `jax.block_until_ready` calls it on every leaf that has one)."""

    def __init__(self, events, value):
        self.events, self.value = events, value

    def block_until_ready(self):
        self.events.append("output blocked on")
        return self


def fake_clock(events, readings):
    """A clock that notes each reading in `events` and returns `readings` one after the other."""
    readings = iter(list(readings))

    def clock():
        events.append("clock read")
        return next(readings)

    return clock


def fake_step(events, value):
    """A step that notes its call in `events` and returns an `Output` that notes the wait."""
    def step(*args):
        events.append("step called")
        return Output(events, value)

    return step
