"""Running a traced program with a bound on its loops, for checks of code that may loop forever.

Under jit a `lax.while_loop` whose condition never turns false hangs the process; a test or probe
that must say "your loop never stops" runs the program here instead, one primitive at a time as
`jax.core.eval_jaxpr` does, with every while loop (nested ones too: inside a jit, a cond or another
loop) allowed a fixed number of turns.
"""
from __future__ import annotations

import jax
import numpy as np


class LoopRanOn(Exception):
    """A while loop still going after the turns allowed."""


def eval_bounded(jaxpr, consts, args, turns: int) -> list:
    """The outputs of `jaxpr` on `args`; LoopRanOn when a while loop would turn more than `turns` times."""
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))

    def read(v):
        return v.val if hasattr(v, "val") else env[v]

    for eqn in jaxpr.eqns:
        values, params, name = [read(v) for v in eqn.invars], eqn.params, eqn.primitive.name
        if name == "while":
            n_cond, n_body = params["cond_nconsts"], params["body_nconsts"]
            cond, body = params["cond_jaxpr"], params["body_jaxpr"]
            cond_consts, body_consts = values[:n_cond], values[n_cond:n_cond + n_body]
            carry, done = values[n_cond + n_body:], 0
            while bool(eval_bounded(cond.jaxpr, cond.consts, [*cond_consts, *carry], turns)[0]):
                if done == turns:
                    raise LoopRanOn(turns)
                carry, done = eval_bounded(body.jaxpr, body.consts, [*body_consts, *carry], turns), done + 1
            outs = carry
        elif name == "cond":
            branches = params["branches"]
            chosen = branches[int(np.clip(int(values[0]), 0, len(branches) - 1))]
            outs = eval_bounded(chosen.jaxpr, chosen.consts, values[1:], turns)
        elif name in ("pjit", "jit", "closed_call", "core_call"):
            inner = params["jaxpr"]
            outs = eval_bounded(getattr(inner, "jaxpr", inner), getattr(inner, "consts", []), values, turns)
        else:
            bind = eqn.primitive.get_bind_params(params)  # (subfuns, params) before jax 0.10, params since
            subfuns, bind = bind if isinstance(bind, tuple) else ((), bind)
            outs = eqn.primitive.bind(*subfuns, *values, **bind)
            outs = outs if eqn.primitive.multiple_results else [outs]
        for v, value in zip(eqn.outvars, outs):
            env[v] = value
    return [read(v) for v in jaxpr.outvars]


def run_bounded(fn, args: tuple, turns: int):
    """fn(*args), run from its traced program with every while loop allowed at most `turns` turns."""
    closed, shape = jax.make_jaxpr(fn, return_shape=True)(*args)
    outs = eval_bounded(closed.jaxpr, closed.consts, jax.tree.leaves(args), turns)
    return jax.tree.unflatten(jax.tree.structure(shape), outs)
