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


def layer_inputs(model, layer_class, input_shape, dtype="float32") -> list[tuple[int, ...]]:
    """The shape of what every call of a `layer_class` layer (nnx.Dropout, say) is given in one forward
    pass of the flax.nnx `model` on an input of `input_shape`, in the model's current mode.

    The pass is only traced (jax.eval_shape), with the class's __call__ wrapped for the while, so
    nothing is computed and no state changes."""
    import jax
    from flax import nnx

    calls, original = [], layer_class.__call__

    def recording(self, inputs, *args, **kwargs):
        calls.append(tuple(int(d) for d in jax.numpy.shape(inputs)))
        return original(self, inputs, *args, **kwargs)

    graphdef, state = nnx.split(model)
    layer_class.__call__ = recording
    try:
        jax.eval_shape(lambda s, x: nnx.merge(graphdef, s)(x), state, jax.ShapeDtypeStruct(input_shape, dtype))
    finally:
        layer_class.__call__ = original
    return calls
