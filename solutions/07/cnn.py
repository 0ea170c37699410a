"""Lesson 07: a small convolutional network with Flax NNX, trained with Optax on 8x8 digits.

The model is an `nnx.Module` that holds its own parameters, batch statistics and dropout randomness.
A jitted training step updates the model and its optimizer in place; an evaluation step measures
the loss and accuracy in evaluation mode.
"""
import jax
import jax.numpy as jnp
import optax
from flax import nnx


class CNN(nnx.Module):
    """A two-block convolutional network for 8x8 grayscale digits, 10 classes.

    `CNN(rngs=nnx.Rngs(0))` builds the layers; `model(x)` maps images `x` of shape
    `(batch, 8, 8, 1)`, float32, to logits of shape `(batch, 10)`, float32.

    Create these layers in `__init__`, in this order, with these attribute names (the order fixes
    which random numbers each layer draws, so a run matches the reference one):

        self.conv1   = nnx.Conv(1, 16, kernel_size=(3, 3), padding="SAME", rngs=rngs)
        self.bn1     = nnx.BatchNorm(16, momentum=0.9, rngs=rngs)
        self.conv2   = nnx.Conv(16, 32, kernel_size=(3, 3), padding="SAME", rngs=rngs)
        self.bn2     = nnx.BatchNorm(32, momentum=0.9, rngs=rngs)
        self.dense1  = nnx.Linear(128, 64, rngs=rngs)
        self.dropout = nnx.Dropout(0.1, rngs=rngs)
        self.dense2  = nnx.Linear(64, 10, rngs=rngs)

    Leave every other argument at its default (the convolutions and dense layers keep their biases).
    The forward pass, with the shapes for a batch of `b` images:

        conv1 -> bn1 -> relu -> max pool 2x2, stride 2     (b, 8, 8, 1) -> (b, 4, 4, 16)
        conv2 -> bn2 -> relu -> max pool 2x2, stride 2     -> (b, 2, 2, 32)
        flatten                                            -> (b, 128)
        dense1 -> relu -> dropout                          -> (b, 64)
        dense2                                             -> (b, 10) logits

    Flatten each image's (2, 2, 32) features in the order they are stored, as
    `x.reshape(x.shape[0], -1)` does. Return dense2's output as it is: logits, no softmax (the loss
    applies the softmax itself).

    Pool with `nnx.max_pool(x, window_shape=(2, 2), strides=(2, 2))`; activate with `nnx.relu`.
    That is 13,802 trainable parameters (`nnx.Param`) and 96 batch statistics (`nnx.BatchStat`).
    Call BatchNorm and Dropout with no mode arguments: `model.train()` and `model.eval()` switch them.

    The tests also set every layer's weights to fixed values (finding the layers by type and size, so
    other attribute names work too) and compare your eval-mode logits with this forward pass computed
    by hand.
    """

    def __init__(self, *, rngs: nnx.Rngs):
        ### BEGIN SOLUTION
        self.conv1 = nnx.Conv(1, 16, kernel_size=(3, 3), padding="SAME", rngs=rngs)
        self.bn1 = nnx.BatchNorm(16, momentum=0.9, rngs=rngs)
        self.conv2 = nnx.Conv(16, 32, kernel_size=(3, 3), padding="SAME", rngs=rngs)
        self.bn2 = nnx.BatchNorm(32, momentum=0.9, rngs=rngs)
        self.dense1 = nnx.Linear(128, 64, rngs=rngs)
        self.dropout = nnx.Dropout(0.1, rngs=rngs)
        self.dense2 = nnx.Linear(64, 10, rngs=rngs)
        ### END SOLUTION

    def __call__(self, x):
        ### BEGIN SOLUTION
        x = nnx.max_pool(nnx.relu(self.bn1(self.conv1(x))), window_shape=(2, 2), strides=(2, 2))
        x = nnx.max_pool(nnx.relu(self.bn2(self.conv2(x))), window_shape=(2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        x = self.dropout(nnx.relu(self.dense1(x)))
        return self.dense2(x)
        ### END SOLUTION


@nnx.jit
def train_step(model, optimizer, x, y):
    """One optimizer step on a batch; updates `model` and `optimizer` in place and returns the loss.

    `model` is a `CNN`, or any model with the same kinds of layers (the tests also use a small one of
    their own), in whatever mode it was left; `optimizer` is `nnx.Optimizer(model, tx, wrt=nnx.Param)`.
    `x` holds images of shape `(batch, 8, 8, 1)`, float32; `y` the labels, shape `(batch,)`, int32,
    in 0..9.

    1. Put the model in training mode with `model.train()` (dropout on, BatchNorm on batch statistics),
       even if it was handed to you in evaluation mode.
    2. Split it: `graphdef, params, rest = nnx.split(model, nnx.Param, ...)`. `params` holds the
       trainable weights, `rest` everything else (batch statistics, dropout's random state).
    3. Write `loss_fn(params, rest)`: rebuild the model with `nnx.merge(graphdef, params, rest)`, call
       it once on `x`, and return the mean over the batch of
       `optax.softmax_cross_entropy_with_integer_labels(logits, y)`.
    4. `loss, grads = nnx.value_and_grad(loss_fn)(params, rest)` differentiates with respect to
       `params` only.
    5. Apply the gradients with `optimizer.update(model, grads)`.

    Return the loss (a float32 scalar, computed before the update). Nothing else needs returning:
    `nnx.jit` carries the new parameters, optimizer state, batch statistics and dropout state back to
    the objects you passed in.
    """
    ### BEGIN SOLUTION
    model.train()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss_fn(params, rest):
        logits = nnx.merge(graphdef, params, rest)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(params, rest)
    optimizer.update(model, grads)
    return loss
    ### END SOLUTION


@nnx.jit
def eval_step(model, x, y):
    """The loss and the accuracy of `model` on a batch, in evaluation mode.

    `model` is a `CNN` or any model with the same kinds of layers (the tests use a small one of their
    own). Call `model.eval()` first, whatever mode the model was in: dropout off, BatchNorm on its running
    averages (which then stay as they are). Then return the pair `(loss, accuracy)`, both float32
    scalars: the mean `optax.softmax_cross_entropy_with_integer_labels(logits, y)`, and the fraction of
    images whose largest logit is at the true label. `x` and `y` are as in `train_step`.
    """
    ### BEGIN SOLUTION
    model.eval()
    logits = model(x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    accuracy = jnp.mean(jnp.argmax(logits, axis=-1) == y)
    return loss, accuracy
    ### END SOLUTION
