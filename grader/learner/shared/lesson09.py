"""Lesson 09: the docstrings' `elman_cell` and `run_rnn`. `echo_loss` is judged with them in place of
the learner's, by the tests and the probe alike, so a mistake in those costs their own tests alone."""
import jax
import jax.numpy as jnp

from grader.learner import expect


def elman_cell(params, h, x):
    return jnp.tanh(x @ params["wx"] + h @ params["wh"] + params["b"])


def run_rnn(cell, params, h0, xs):
    def step(h, x):
        h = cell(params, h, x)
        return h, h

    return jax.lax.scan(step, h0, xs)


def on_documented(ex):
    """`echo_loss`'s earlier exercises, the docstrings' versions in place of the learner's."""
    return expect.documented(ex, elman_cell=elman_cell, run_rnn=run_rnn)
