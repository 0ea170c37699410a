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


# -- a Python loop unrolled: told from the traced program, before XLA compiles it ----------------------

UNROLLED_RATIO, UNROLLED_FLOOR = 10, 300
_sizes: dict = {}


def program_size(fn, args: tuple, static_argnums=()) -> int | None:
    """The number of equations in fn's traced program on `args` (nested ones included), or None
    where it can't be traced (the call itself then raises its own error). Tracing takes
    milliseconds where XLA's compile of an unrolled loop takes minutes."""
    import jax

    try:
        key = (fn, tuple(static_argnums), jax.tree.structure(args),
               tuple(_signature(a) for a in jax.tree.leaves(args)))
        hash(key)
    except TypeError:  # an unhashable static argument
        key = None
    if key is not None and key in _sizes:
        return _sizes[key]
    try:
        size = sum(1 for _ in equations(jax.make_jaxpr(fn, static_argnums=static_argnums)(*args)))
    except Exception:  # noqa: BLE001  (the real call reports it)
        size = None
    if key is not None:
        _sizes[key] = size
    return size


def _signature(leaf):
    shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
    return (tuple(shape), str(dtype)) if shape is not None and dtype is not None else leaf


def not_unrolled(fn, args: tuple, reference, *, call: str, static_argnums=(), what: str = "the input") -> None:
    """Before a test compiles the learner's `fn` on `args`: fail at once, with the reason, when its
    traced program is far larger than the reference's on the same arguments (a Python loop that jit
    unrolls into one copy of its body per turn, which XLA would take minutes to compile)."""
    __tracebackhide__ = True
    from grader.learner import expect

    want = program_size(reference, args, static_argnums)
    got = program_size(fn, args, static_argnums)
    if want is None or got is None or got <= max(UNROLLED_RATIO * want, UNROLLED_FLOOR):
        return
    raise expect.failure(
        call, f"a program of about {want} operations, as a loop-free version traces to",
        f"a program of {got} operations ({got // max(want, 1)} times as many), stopped before XLA compiled it",
        f"a Python loop (a `for` over samples, steps or elements) is unrolled under jit, grad and vmap: "
        f"its body is traced once per turn, so the program grows with {what} and takes minutes to "
        "compile. Compute on whole arrays (jnp, jax.vmap) or loop with lax.fori_loop / lax.scan.")
