"""Lesson 07: what the tests and the probe both build. The small model that `train_step` and `eval_step`
are judged on (so that a mistake in the learner's CNN doesn't cost their points), and the ways both
build, call and read an nnx model: built and run inside one compiled program each."""
import jax
import numpy as np
from flax import nnx

MOMENTUM = 0.9  # the small model's BatchNorm


class SmallNet(nnx.Module):
    """The tests' own small model: (b, 8, 8, 1) images to (b, 10) logits through one conv block,
    BatchNorm, dropout and two dense layers, with every kind of state a CNN holds.

    The conv has no bias: before BatchNorm its gradient is zero but for rounding noise, which Adam's
    first step would blow up to a full step of +-lr that differs between right implementations."""

    def __init__(self, *, rngs: nnx.Rngs):
        self.conv = nnx.Conv(1, 4, kernel_size=(3, 3), padding="SAME", use_bias=False, rngs=rngs)
        self.bn = nnx.BatchNorm(4, momentum=MOMENTUM, rngs=rngs)
        self.dense1 = nnx.Linear(64, 16, rngs=rngs)
        self.dropout = nnx.Dropout(0.3, rngs=rngs)
        self.dense2 = nnx.Linear(16, 10, rngs=rngs)

    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.bn(self.conv(x))), window_shape=(2, 2), strides=(2, 2))
        x = self.dropout(nnx.relu(self.dense1(x.reshape(x.shape[0], -1))))
        return self.dense2(x)


@nnx.jit(static_argnums=0)
def build(model_class, key):
    """model_class(rngs=nnx.Rngs(key)) in one compiled program. Built op by op, a fresh model compiles a
    dozen small programs (one truncated normal per kernel shape); built under nnx.jit it is one."""
    return model_class(rngs=nnx.Rngs(key))


@nnx.jit
def forward(model, x):
    """The model's logits, in whatever mode the model is in."""
    return model(x)


def leaves(model, kind):
    """Copies of the model's arrays of one variable type (nnx.Param or nnx.BatchStat), in a fixed order."""
    return [np.array(leaf) for leaf in jax.tree.leaves(nnx.state(model, kind))]


def modules(model):
    """Every module of the model, itself included, in the order nnx walks them."""
    iter_modules = getattr(nnx, "iter_modules", None)
    found = iter_modules(model) if iter_modules is not None else model.iter_modules()
    return [module for _, module in found]
