"""Reading a traced program: the concept checks count and name its operations."""
from __future__ import annotations


def equations(jaxpr):
    """Every equation of a jaxpr (or ClosedJaxpr), those inside nested jaxprs (jit, cond, scan,
    shard_map...) included, each before the ones nested in it."""
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)  # a ClosedJaxpr holds its Jaxpr in .jaxpr
    for eqn in jaxpr.eqns:
        yield eqn
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    yield from equations(inner)


def op_names(jaxpr) -> list[str]:
    """Every primitive name in a jaxpr, nested ones included (one entry per equation)."""
    return [eqn.primitive.name for eqn in equations(jaxpr)]
