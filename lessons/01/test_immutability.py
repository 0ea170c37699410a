import jax.numpy as jnp
import numpy as np
import pytest

from grader import expect


@pytest.mark.exercise("set_first", points=1)
def test_set_first(ex):
    x = jnp.array([1.0, 2.0, 3.0])
    got = ex.set_first(x, 9.0)
    expect.close(got, jnp.array([9.0, 2.0, 3.0]), call=expect.call("set_first", x, 9.0),
                 hint="x.at[0].set(value) returns the new array.")


@pytest.mark.exercise("add_at", points=2)
def test_add_at(ex):
    x = jnp.array([1.0, 2.0, 3.0])
    got = ex.add_at(x, 1, 5.0)
    expect.close(got, jnp.array([1.0, 7.0, 3.0]), call=expect.call("add_at", x, 1, 5.0))
