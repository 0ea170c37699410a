"""Lesson 03: the transformations — grad, jit, vmap, pmap and shard_map.

Each exercise is one function. The tests call most of them under `jax.jit`, so write them with
jax.numpy and jax.lax, and keep Python `if`s and loops away from traced values.
"""
import jax
import jax.numpy as jnp
from jax import lax
from jax.sharding import PartitionSpec as P


def predict(w, b, x):
    """The linear model of this lesson: `x @ w + b`. x: (n, d), w: (d,), b: scalar -> (n,)."""
    return x @ w + b


def example_loss(w, b, x, y):
    """The squared error of ONE example: x: (d,), y: scalar -> scalar."""
    return (x @ w + b - y) ** 2


def value(theta, s):
    """A linear value function: V(s) = s @ theta. s: (n, d) or (d,), theta: (d,)."""
    return s @ theta


# ---------------------------------------------------------------------------------------------
# grad: argnums, has_aux, value_and_grad
# ---------------------------------------------------------------------------------------------

def loss_preds_and_grads(w, b, x, y):
    """The mean squared error of `predict(w, b, x)` against `y`, its predictions, and its gradients.

    w: (d,), b: scalar, x: (n, d), y: (n,), all float32.
    Returns `((loss, preds), (dw, db))`:
      - loss: scalar, mean((preds - y) ** 2)
      - preds: (n,), predict(w, b, x)
      - dw: d loss / d w, shape (d,);  db: d loss / d b, a scalar.
    Use ONE `jax.value_and_grad` call: `argnums` picks w and b, and `has_aux=True` lets the loss
    function hand back the predictions alongside the loss. The loss and the predictions are each
    computed once (the tests count them in the traced program).
    """
    ### BEGIN SOLUTION
    def loss_fn(w, b, x, y):
        preds = predict(w, b, x)
        return jnp.mean((preds - y) ** 2), preds

    return jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)(w, b, x, y)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# jacfwd, jacrev, hessian
# ---------------------------------------------------------------------------------------------

def jacobian_and_hessian(f, x):
    """Both derivatives of a vector function f: (n,) -> (m,) at the point x (shape (n,)).

    Returns `(J, H)`:
      - J[i, j] = d f(x)[i] / d x[j], shape (m, n)
      - H[i, j, k] = d^2 f(x)[i] / d x[j] d x[k], shape (m, n, n)
    `jax.jacfwd`, `jax.jacrev` and `jax.hessian` do the work; `jax.grad` only takes scalar functions.
    """
    ### BEGIN SOLUTION
    return jax.jacfwd(f)(x), jax.hessian(f)(x)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# jit with a static argument
# ---------------------------------------------------------------------------------------------

def jit_with_static_n(f):
    """Compile `f(x, n)` with `jax.jit`, treating `n` as static.

    `f` takes an array `x` and a Python int `n` that steers Python control flow (say, `range(n)`),
    so `n` must be a concrete value while `f` is traced.
    Returns the compiled function: calling it as `g(x, n)` many times with the same `n` and new `x`
    values of the same shape must trace `f` only once, and a new `n` must trace it once more.
    """
    ### BEGIN SOLUTION
    return jax.jit(f, static_argnums=1)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# purity: side effects run when tracing, not when running
# ---------------------------------------------------------------------------------------------

def double_and_tick(x, tick):
    """Return `2 * x`, and call `tick()` once every time this function RUNS.

    `tick` is a plain Python function with no arguments (it bumps a counter). The tests jit this
    function: a plain Python call `tick()` would then run once, while tracing, and never again.
    Hand `tick` to `jax.debug.callback` instead, so the compiled program calls it on every run.
    """
    ### BEGIN SOLUTION
    jax.debug.callback(tick)
    return 2 * x
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# control flow under jit: jnp.where, lax.cond, lax.fori_loop
# ---------------------------------------------------------------------------------------------

def soft_threshold(x, t):
    """Shrink every element of `x` towards zero by `t` (a scalar >= 0), element by element:

        x - t   where x > t
        x + t   where x < -t
        0       elsewhere

    x: float32 array of any shape; returns the same shape. Both x and t are traced under jit,
    so a Python `if` on them cannot work: choose per element with `jnp.where`.
    """
    ### BEGIN SOLUTION
    return jnp.where(x > t, x - t, jnp.where(x < -t, x + t, jnp.zeros_like(x)))
    ### END SOLUTION


def collatz_after(x, n):
    """Apply the Collatz step `n` times to the int32 scalar `x` and return the result (int32).

    One step: `x // 2` if x is even, else `3 * x + 1`.
    Both x and n are traced under jit: loop with `lax.fori_loop` (it takes a traced trip count)
    and branch with `lax.cond` or `jnp.where`.
    """
    ### BEGIN SOLUTION
    def step(i, v):
        return lax.cond(v % 2 == 0, lambda u: u // 2, lambda u: 3 * u + 1, v)

    return lax.fori_loop(0, n, step, x)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# vmap with in_axes
# ---------------------------------------------------------------------------------------------

def per_example_grads(w, b, xs, ys):
    """The gradient of `example_loss` with respect to (w, b), once per example.

    w: (d,), b: scalar (shared by every example); xs: (B, d), ys: (B,) (one row per example).
    Returns `(dws, dbs)` with shapes (B, d) and (B,): row i is the gradient for example i.
    Write it for ONE example with `jax.grad`, then batch it with `jax.vmap` and `in_axes`
    (None for the shared arguments, 0 for the batched ones). No Python loop over the batch.
    """
    ### BEGIN SOLUTION
    grad_one = jax.grad(example_loss, argnums=(0, 1))
    return jax.vmap(grad_one, in_axes=(None, None, 0, 0))(w, b, xs, ys)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# pmap with collectives
# ---------------------------------------------------------------------------------------------

def device_totals_and_means(x, devices):
    """Spread the rows of `x` over `devices` with `jax.pmap` and share statistics between them.

    x: (len(devices), k) float32; row i goes to devices[i] (run on the devices given, not the defaults).
    On each device, compute the sum of all of x with `lax.psum` and the mean of all of x with
    `lax.pmean` (over the axis name you give pmap). Returns `(totals, means)`, both of shape
    (len(devices),): every device ends up with the same total and the same mean.
    """
    ### BEGIN SOLUTION
    def on_one_device(row):
        return lax.psum(jnp.sum(row), "devices"), lax.pmean(jnp.mean(row), "devices")

    return jax.pmap(on_one_device, axis_name="devices", devices=devices)(x)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# shard_map, the modern form
# ---------------------------------------------------------------------------------------------

def data_parallel_loss(w, x, y, mesh):
    """The mean squared error of `x @ w` against `y`, computed data-parallel with `jax.shard_map`.

    mesh: a `jax.sharding.Mesh` with one axis (its name is `mesh.axis_names[0]`).
    w: (d,) replicated on every device (in_specs P()); x: (n, d) and y: (n,) split along their first
    axis over the mesh (in_specs P(axis)); n is a multiple of the number of devices.
    Each device computes the mean squared error of ITS block, then the devices average those
    losses with `lax.pmean`. Returns the scalar loss, the same on every device (out_specs=P()).
    Because the collectives are differentiable, `jax.grad` of this function is the full-batch gradient.
    """
    ### BEGIN SOLUTION
    axis = mesh.axis_names[0]

    def block_loss(w, x_block, y_block):
        return lax.pmean(jnp.mean((x_block @ w - y_block) ** 2), axis)

    sharded = jax.shard_map(block_loss, mesh=mesh, in_specs=(P(), P(axis), P(axis)), out_specs=P())
    return sharded(w, x, y)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# stop_gradient: a TD(0) target
# ---------------------------------------------------------------------------------------------

def td_loss(theta, s, r, s_next, gamma):
    """The TD(0) loss of the linear value function `value(theta, s)`, with the target held fixed.

    s, s_next: (n, d) states and next states; r: (n,) rewards; gamma: scalar discount.
    Returns the scalar mean over the batch of (target - value(theta, s)) ** 2, where
    target = r + gamma * value(theta, s_next) is treated as a constant: wrap it in
    `lax.stop_gradient` so that jax.grad(td_loss) does not flow through V(s_next).
    """
    ### BEGIN SOLUTION
    target = lax.stop_gradient(r + gamma * value(theta, s_next))
    return jnp.mean((target - value(theta, s)) ** 2)
    ### END SOLUTION
