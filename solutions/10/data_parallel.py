"""Lesson 10: data-parallel training on several devices.

One training step, three ways: `jax.pmap` over replicated parameters and a batch split into blocks,
`jax.shard_map` over a `Mesh`, and plain `jax.jit` told where the data lives with `NamedSharding`s.
Each must train exactly like one device on the whole batch. Then a 1-D convolution of a long
signal split across devices, where neighbours trade the edges of their blocks with `lax.ppermute`.

A loss here is a function `loss_fn(params, batch) -> scalar`, where `batch = (x, y)`: the mean over
the examples of the batch. `linear_loss` and `mlp_loss` below are two of them, given in full.
The tests run your code on 8 CPU devices (`jax.devices("cpu")`), so it works on a laptop too; some
give a mesh or a device list of only 4 of them, so count the devices you are given, never all of JAX's.
"""
import jax
import jax.numpy as jnp
from jax import lax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P


def linear_loss(params, batch):
    """Given in full. The mean squared error of a linear model, params = {"w": (d,), "b": ()}.

    batch = (x, y) with x: (n, d) and y: (n,).
    """
    x, y = batch
    return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)


def init_mlp(key, sizes):
    """Given in full. Lesson 06's MLP: a list of {"w": (n_in, n_out), "b": (n_out,)}, He-initialized."""
    params = []
    keys = jax.random.split(key, len(sizes) - 1)
    for layer_key, n_in, n_out in zip(keys, sizes[:-1], sizes[1:]):
        w = jax.random.normal(layer_key, (n_in, n_out), jnp.float32) * jnp.sqrt(2.0 / n_in)
        params.append({"w": w, "b": jnp.zeros((n_out,), jnp.float32)})
    return params


def mlp_forward(params, x):
    """Given in full. Lesson 06's forward pass: x @ w + b for every layer, ReLU between layers."""
    *hidden, last = params
    for layer in hidden:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ last["w"] + last["b"]


def mlp_loss(params, batch):
    """Given in full. The mean squared error of the MLP: batch = (x, y), x: (n, n_in), y: (n, n_out)."""
    x, y = batch
    return jnp.mean((mlp_forward(params, x) - y) ** 2)


def sgd_update(params, grads, lr):
    """Given in full. One plain gradient-descent step on any pytree: p - lr * g, leaf by leaf."""
    return jax.tree.map(lambda p, g: p - lr * g, params, grads)


# ---------------------------------------------------------------------------------------------
# the layout pmap wants: a leading device axis
# ---------------------------------------------------------------------------------------------

def replicate(params, n_devices):
    """One copy of `params` per device, stacked along a new leading axis.

    params: any pytree of arrays. Returns the same pytree where every leaf `p` of shape s becomes
    an array of shape (n_devices, *s) whose every row `[i]` equals `p`. It prepares pmap's inputs and
    is called as is, outside jit: NumPy or jax.numpy, either works (the leaves may be either too).
    """
    ### BEGIN SOLUTION
    return jax.tree.map(lambda p: jnp.broadcast_to(p, (n_devices,) + jnp.shape(p)), params)
    ### END SOLUTION


def shard_batch(batch, n_devices):
    """Split every leaf of `batch` into `n_devices` blocks of consecutive rows, along a new leading axis.

    batch: any pytree of arrays whose first axis has the same length n, a multiple of n_devices.
    Each leaf of shape (n, *rest) becomes (n_devices, n // n_devices, *rest), where block i holds
    rows i * k ... (i + 1) * k - 1 (k = n // n_devices): device i gets the i-th slice of the batch.
    Called as is, outside jit, like `replicate`: NumPy or jax.numpy, either works.
    """
    ### BEGIN SOLUTION
    return jax.tree.map(lambda a: jnp.reshape(a, (n_devices, -1) + jnp.shape(a)[1:]), batch)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# 1. pmap: each device its own copy of the params and its own block of the batch
# ---------------------------------------------------------------------------------------------

def make_pmap_step(loss_fn, devices):
    """A data-parallel SGD step with `jax.pmap`, run on `devices` (a list of devices, not the defaults).

    Returns `step(params, batch, lr) -> (params, loss)` where
      - params: replicated, every leaf with a leading axis of len(devices) (as `replicate` makes it);
      - batch: split, every leaf with a leading axis of len(devices) (as `shard_batch` makes it);
      - lr: a Python float, the same on every device (not mapped: in_axes None).
    Device i computes the loss and the gradient of `loss_fn` on ITS block with ITS copy of the params;
    the devices then average the gradients (and the losses) with `lax.pmean` over the pmap's axis
    name, and each device takes the same SGD step (`sgd_update`). The result: new params, still
    replicated and the same on every device, and the loss (shape (len(devices),)), each entry the
    mean loss over the whole batch at the params given. Blocks of equal size make that average
    exactly one device's full-batch step.
    """
    ### BEGIN SOLUTION
    def one_device(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        grads = lax.pmean(grads, "devices")
        loss = lax.pmean(loss, "devices")
        return sgd_update(params, grads, lr), loss

    return jax.pmap(one_device, axis_name="devices", in_axes=(0, 0, None), devices=devices)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# 2. shard_map: one program over a mesh, written per block
# ---------------------------------------------------------------------------------------------

def make_shard_map_step(loss_fn, mesh):
    """The same step with `jax.shard_map` over `mesh`, a one-axis `jax.sharding.Mesh`.

    Returns `step(params, batch, lr) -> (params, loss)` on whole (global) arrays:
      - params: replicated on every device (in_specs P());
      - batch: every leaf split along its first axis over the mesh axis (in_specs P(axis), with
        axis = mesh.axis_names[0]);
      - lr: a scalar, replicated (P()).
    Inside, each device sees its own block. Return new params and the full-batch loss, both the same
    on every device (out_specs P()). The tests call your step under `jax.jit`.

    Mind how shard_map differentiates: params that come in replicated (P()) are known to be the
    same on every device, and the gradient of a per-device loss with respect to them is already
    SUMMED over the devices. Average the loss across devices with `lax.pmean` first and differentiate
    that: its gradient is the full-batch gradient, the same on every device.
    """
    ### BEGIN SOLUTION
    axis = mesh.axis_names[0]

    def per_block(params, batch, lr):
        def mean_loss(p):
            return lax.pmean(loss_fn(p, batch), axis)

        loss, grads = jax.value_and_grad(mean_loss)(params)
        return sgd_update(params, grads, lr), loss

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(), P(axis), P()), out_specs=(P(), P()))
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# 3. jit over shardings: say where the data lives, the compiler writes the communication
# ---------------------------------------------------------------------------------------------

def place_on_mesh(params, batch, mesh):
    """Put `params` and `batch` on the devices of `mesh` (one axis, named mesh.axis_names[0]).

    Returns `(params, batch)` as `jax.Array`s placed with `jax.device_put` and `NamedSharding`s:
      - every leaf of params replicated: a whole copy on every device (PartitionSpec P());
      - every leaf of batch split along its first axis over the mesh axis (P(axis)): device i of
        the mesh holds rows i * k ... (i + 1) * k - 1.
    """
    ### BEGIN SOLUTION
    axis = mesh.axis_names[0]
    params = jax.device_put(params, NamedSharding(mesh, P()))
    batch = jax.device_put(batch, NamedSharding(mesh, P(axis)))
    return params, batch
    ### END SOLUTION


def make_jit_step(loss_fn, mesh):
    """The same step as ONE `jax.jit`, with shardings instead of collectives.

    Returns the `jax.jit`-wrapped `step(params, batch, lr) -> (params, loss)` (the tests compile it
    with `.lower`): a plain single-device step (value_and_grad, then `sgd_update`), whose
    `in_shardings` replicate the params, split the batch along its first axis over the mesh axis
    (`NamedSharding(mesh, P(axis))`) and replicate lr, and whose `out_shardings` leave the new params
    and the loss replicated. The tests call it with plain NumPy arrays: the in_shardings place them,
    and the compiler adds the all-reduce that sums the gradients across devices.
    """
    ### BEGIN SOLUTION
    axis = mesh.axis_names[0]
    replicated = NamedSharding(mesh, P())
    split = NamedSharding(mesh, P(axis))

    def step(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        return sgd_update(params, grads, lr), loss

    return jax.jit(step, in_shardings=(replicated, split, replicated), out_shardings=(replicated, replicated))
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# 4. a convolution split across devices: halo exchange with ppermute
# ---------------------------------------------------------------------------------------------

def conv1d_halo(x, kernel, mesh):
    """The 1-D "same" correlation of a long signal split across the devices of `mesh`.

    x: (n,) float32, split in blocks of consecutive values over the mesh axis (n is a multiple of the
    number of devices, and a block is at least K // 2 long). kernel: (K,) float32, K odd, >= 3,
    replicated. Returns out: (n,), split over the mesh the same way as x, with

        out[i] = sum_j kernel[j] * x[i + j - K // 2]      (x is 0 outside 0 ... n - 1)

    which is what `numpy.correlate(x, kernel, mode="same")` gives (no kernel flip). Write it with
    `jax.shard_map`: each device holds only its block, and the K // 2 values it needs beyond either
    end of it (its halo) come from its neighbours with `lax.ppermute`: the left halo from the
    previous device's last values, the right halo from the next device's first values. The first
    and last devices have no neighbour on one side: there x is 0 (ppermute sends zeros to a device
    that no pair sends to). Gather nothing else: no device ever holds the whole signal.
    """
    ### BEGIN SOLUTION
    axis = mesh.axis_names[0]
    n_dev = mesh.shape[axis]
    h = kernel.shape[0] // 2

    def per_block(block, kernel):
        to_next = [(i, i + 1) for i in range(n_dev - 1)]
        to_prev = [(i + 1, i) for i in range(n_dev - 1)]
        left = lax.ppermute(block[-h:], axis, to_next)
        right = lax.ppermute(block[:h], axis, to_prev)
        padded = jnp.concatenate([left, block, right])
        m = block.shape[0]
        return sum(kernel[j] * padded[j:j + m] for j in range(kernel.shape[0]))

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(axis), P()), out_specs=P(axis))(x, kernel)
    ### END SOLUTION
