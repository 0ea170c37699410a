"""The kit's words for raw JAX errors: each known error, provoked with the installed JAX, is
recognised (JAX rewords its messages across versions; this notices when a needle stops matching)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, PartitionSpec as P

from grader.learner import jax_errors


def _python_if(x):
    return x if x > 0 else -x


def _numpy_inside(x):
    return np.asarray(x) + 1


def _traced_length(x, n):
    return jnp.zeros(n) + x


def _two_outputs(w):
    return jnp.sum(w ** 2), w


def _unbound_axis(x):
    return jax.lax.psum(x, "batch")


def _not_combined(x):
    mesh = Mesh(np.array(jax.devices()[:1]), ("d",))
    return jax.jit(jax.shard_map(lambda v: v.sum(keepdims=True), mesh=mesh, in_specs=P("d"), out_specs=P()))(x)


CASES = {
    "python if": (lambda: jax.jit(_python_if)(1.0), "Python `if`"),
    "numpy on a tracer": (lambda: jax.jit(_numpy_inside)(1.0), "NumPy"),
    "traced shape": (lambda: jax.jit(_traced_length)(1.0, 3), "static"),
    "grad of two outputs": (lambda: jax.grad(_two_outputs)(jnp.ones(2)), "has_aux=True"),
    "unbound axis": (lambda: jax.vmap(_unbound_axis, axis_name="data")(jnp.ones(2)), "axis name"),
    "shard_map not combined": (lambda: _not_combined(jnp.ones(2)), "combined across devices"),
}


@pytest.mark.parametrize("case", CASES)
def test_known_jax_error_gets_the_kits_words(case):
    provoke, words = CASES[case]
    with pytest.raises(Exception) as info:
        provoke()
    explanation = jax_errors.explain(info.value)
    assert explanation is not None, f"{case}: no kit words for {type(info.value).__name__}: {info.value}"
    assert words in explanation


def test_an_unknown_error_gets_no_guess():
    assert jax_errors.explain(ValueError("something else")) is None
