"""Raw JAX errors told in the lessons' words: what the error shows the code did, and the concept
that fixes it. The pytest plugin adds this line under an error raised while a learner's code ran."""
from __future__ import annotations

import jax

_BY_TYPE = (
    (jax.errors.TracerBoolConversionError,
     "a Python `if`, `while`, `and`/`or` or bool() asked for the truth of a traced value. Under jit, grad "
     "or vmap the values are not known while the function is traced: choose element by element "
     "(jnp.where), with lax.cond, or make that argument static."),
    (jax.errors.TracerArrayConversionError,
     "a traced value was handed to NumPy (np.* or np.asarray). Inside a JAX transformation, compute "
     "with jax.numpy; NumPy only sees concrete values."),
    (jax.errors.TracerIntegerConversionError,
     "int() or a Python index was asked of a traced value. Keep it an array (jnp indexing, lax "
     "functions), or make that argument static."),
    (jax.errors.NonConcreteBooleanIndexError,
     "a boolean mask was used as an index under a transformation: the result's size would depend on "
     "the values. Keep the shape fixed with jnp.where."),
    (jax.errors.ConcretizationTypeError,
     "a traced value was used where a concrete Python value is needed (a shape, a loop bound, a "
     "slice size, a Python `if`). Make that argument static (static_argnums/static_argnames) or "
     "derive the size from shapes, which are always concrete."),
    (jax.errors.UnexpectedTracerError,
     "a traced value escaped its transformation (kept in a global, a list or an attribute outside the "
     "function). Return values instead of storing them."),
    (jax.errors.KeyReuseError,
     "one PRNG key was consumed twice. Split it (jax.random.split) and use each new key once."),
)

_BY_TEXT = (
    ("Shapes must be 1D sequences of concrete values",
     "a traced value was used as a shape. Under jit the arguments are traced: make that argument "
     "static (static_argnums/static_argnames) or derive the size from shapes, which are always concrete."),
    ("unbound axis name",
     "a collective (psum, pmean, all_gather...) named an axis that no enclosing pmap, vmap or "
     "shard_map defines. The collective's axis name must be the one the mapped function was given."),
    ("Gradient only defined for scalar-output functions",
     "jax.grad needs a function that returns one scalar. If it also returns other values, say so with "
     "has_aux=True; if it returns a vector, reduce it (a mean or a sum) or use jax.jacobian."),
    ("has_aux argument is True, func must return a pair",
     "with has_aux=True the function must return a pair: (scalar to differentiate, auxiliary data)."),
    ("replication which can't be statically inferred",
     "the per-device results were not combined across devices. A collective over the mesh axis "
     "(psum or pmean) makes them one value, which is what an out_spec of P() promises; turning the "
     "check off would return one device's part, not the answer."),
    ("vmap got inconsistent sizes for array axes to be mapped",
     "vmap was asked to map arrays whose mapped axes have different sizes: check in_axes (None "
     "for an argument shared by every example)."),
    ("Custom node type mismatch",
     "a pytree was rebuilt with another structure than it was flattened with: the children and the "
     "aux data must round-trip through flatten and unflatten."),
)


def explain(err: BaseException) -> str | None:
    """One kit sentence for a known raw JAX error, or None."""
    for kind, text in _BY_TYPE:
        if isinstance(err, kind):
            return text
    message = str(err)
    for needle, text in _BY_TEXT:
        if needle in message:
            return text
    return None
