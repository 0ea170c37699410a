"""Lesson 04 tests: pytrees. Inputs are small NumPy-built params; expectations are worked out leaf by
leaf in NumPy, so no test trusts a tree function to check a tree function."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grader import expect

RNG = np.random.default_rng(4)


def _params():
    return {
        "hidden": {"w": RNG.normal(size=(3, 4)).astype(np.float32), "b": RNG.normal(size=4).astype(np.float32)},
        "out": {"w": RNG.normal(size=(4, 2)).astype(np.float32), "b": RNG.normal(size=2).astype(np.float32)},
    }


PARAMS = _params()
GRADS = _params()


def _leafwise(fn, *trees):
    """The NumPy version of tree.map for the fixed two-layer layout used here."""
    return {layer: {k: fn(*(t[layer][k] for t in trees)) for k in ("w", "b")} for layer in ("hidden", "out")}


@pytest.mark.exercise("scale", points=1)
def test_scale(ex):
    params = jax.tree.map(np.copy, PARAMS)
    got = ex.scale(params, 0.5)
    expect.close(got, _leafwise(lambda p: p * 0.5, PARAMS), call="scale(params, 0.5)",
                 hint="jax.tree.map(lambda leaf: leaf * factor, params) keeps the dict structure.")
    expect.close(params, PARAMS, call="scale(params, 0.5), then looking at params",
                 hint="leave the caller's params as they were: build new leaves, never write into old ones.")


@pytest.mark.exercise("count_params", points=2)
def test_count_params(ex):
    trees = [(PARAMS, 12 + 4 + 8 + 2), ({"only": np.zeros((5, 6, 7), np.float32)}, 210),
             ([np.zeros(3, np.float32), (np.zeros((2, 2), np.float32),)], 7)]
    for tree, want in trees:
        got = ex.count_params(tree)
        expect.that(got == want and isinstance(got, int), call=f"count_params({expect.show(tree)})",
                    expected=f"{want} (a Python int)", returned=expect.show(got),
                    hint="count scalars, not leaves: add up leaf.size over jax.tree.leaves(params).")


@pytest.mark.exercise("sizes_of_shapes", points=2)
def test_sizes_of_shapes(ex):
    shapes = {"hidden": {"w": (3, 4), "b": (4,)}, "out": {"w": (4, 2), "b": (2,)}, "scalar": ()}
    want = {"hidden": {"w": 12, "b": 4}, "out": {"w": 8, "b": 2}, "scalar": 1}
    got = ex.sizes_of_shapes(shapes)
    expect.that(got == want, call=f"sizes_of_shapes({shapes})", expected=str(want), returned=expect.show(got),
                hint="tree.map walks inside tuples, so (3, 4) looks like two leaves; pass is_leaf= a test "
                     "that says 'a tuple of ints is a leaf'.")


@pytest.mark.exercise("to_vector", points=2)
def test_to_vector(ex):
    got = ex.to_vector(PARAMS)
    leaves = [PARAMS["hidden"]["b"], PARAMS["hidden"]["w"], PARAMS["out"]["b"], PARAMS["out"]["w"]]
    want = np.concatenate([leaf.ravel() for leaf in leaves])  # dict keys come out sorted: "b" before "w"
    expect.close(got, want, call="to_vector(params)",
                 hint="jax.tree.leaves gives the leaves in a fixed order (dict keys sorted); ravel each "
                      "and join them with jnp.concatenate.")


@pytest.mark.exercise("from_vector", points=2)
def test_from_vector(ex):
    leaves, treedef = jax.tree.flatten(PARAMS)
    vector = np.arange(sum(leaf.size for leaf in leaves), dtype=np.float32)
    got = ex.from_vector(vector, PARAMS)
    pieces, start = [], 0
    for leaf in leaves:
        pieces.append(vector[start:start + leaf.size].reshape(leaf.shape))
        start += leaf.size
    expect.close(got, jax.tree.unflatten(treedef, pieces), call="from_vector(arange(26.), like=params)",
                 hint="jax.tree.flatten(like) gives the leaves and the treedef; cut the vector into "
                      "pieces of leaf.size, reshape each, then jax.tree.unflatten(treedef, pieces).")


def _dense(ex, name="hidden"):
    return ex.Dense(PARAMS["hidden"]["w"], PARAMS["hidden"]["b"], name)


@pytest.mark.exercise("Dense", points=2)
def test_dense_leaves_are_its_arrays(ex):
    layer = _dense(ex)
    leaves = jax.tree.leaves(layer)
    expect.that(len(leaves) == 2 and all(isinstance(leaf, (np.ndarray, jax.Array)) for leaf in leaves),
                call="jax.tree.leaves(Dense(w, b, 'hidden'))", expected="the two arrays [w, b]",
                returned=expect.show(leaves),
                hint="tree_flatten returns (children, aux_data): the arrays are children, the name is aux data.")
    expect.close(leaves, [layer.w, layer.b], call="jax.tree.leaves(Dense(w, b, 'hidden'))",
                 hint="return the children in the order (w, b).")
    doubled = jax.tree.map(lambda leaf: 2 * leaf, layer)
    expect.that(type(doubled).__name__ == "Dense" and doubled.name == "hidden",
                call="jax.tree.map(lambda leaf: 2 * leaf, Dense(w, b, 'hidden'))",
                expected="a Dense still named 'hidden'", returned=expect.show(getattr(doubled, "name", doubled)),
                hint="tree_unflatten(aux_data, children) builds cls(w, b, aux_data).")
    expect.close([doubled.w, doubled.b], [2 * layer.w, 2 * layer.b], call="jax.tree.map(2 * leaf, Dense)",
                 hint="tree_unflatten must put the children back as w and b, in that order.")


@pytest.mark.exercise("Dense", points=2)
def test_dense_name_is_static_under_jit(ex):
    seen = []

    @jax.jit
    def apply(layer, x):
        seen.append(layer.name)  # runs while tracing: aux data arrives as the plain Python value
        return layer(x)

    x = np.ones((1, 3), np.float32)
    try:
        got = apply(_dense(ex), x)
    except TypeError as err:
        raise expect.failure("jax.jit(apply)(Dense(w, b, 'hidden'), x)", "the layer's output",
                             f"TypeError: {str(err).splitlines()[0]}",
                             "only arrays can be traced: keep the name in aux_data, not in the children.") from None
    expect.that(seen == ["hidden"], call="jax.jit(apply)(Dense(w, b, 'hidden'), x)",
                expected="layer.name == 'hidden' inside jit", returned=expect.show(seen),
                hint="aux data is passed through untouched; children become tracers.")
    expect.close(got, x @ PARAMS["hidden"]["w"] + PARAMS["hidden"]["b"], call="Dense(w, b, 'hidden')(x) under jit")
    renamed = ex.Dense(PARAMS["hidden"]["w"], PARAMS["hidden"]["b"], "other")
    expect.that(jax.tree.structure(renamed) != jax.tree.structure(_dense(ex)),
                call="jax.tree.structure(Dense(..., 'other')) == jax.tree.structure(Dense(..., 'hidden'))",
                expected="False: the name is part of the structure", returned="True",
                hint="put the name in aux_data, which JAX compares as part of the tree's structure.")


@pytest.mark.exercise("init_state", points=1)
def test_init_state(ex):
    got = ex.init_state()
    expect.equal(got, {"count": np.int32(0), "total": np.float32(0.0)}, call="init_state()",
                 hint='{"count": jnp.zeros((), jnp.int32), "total": jnp.zeros((), jnp.float32)}')


@pytest.mark.exercise("running_mean", points=3)
def test_running_mean_threads_its_state(ex):
    state = {"count": np.int32(0), "total": np.float32(0.0)}
    xs = [2.0, 4.0, 9.0]
    step = jax.jit(ex.running_mean)
    for i, x in enumerate(xs):
        mean, new_state = step(state, np.float32(x))
        again, _ = step(state, np.float32(x))
        want = np.mean(xs[: i + 1])
        call = f"running_mean({expect.show(state)}, {x})"
        expect.close(mean, np.float32(want), call=call,
                     hint="the mean counts every x so far: (total + x) / (count + 1), from the state passed in.")
        expect.close(again, mean, call=call + " a second time",
                     hint="a pure function: all it knows comes in through state; keep no globals.")
        expect.close(new_state, {"count": np.int32(i + 1), "total": np.float32(sum(xs[: i + 1]))}, call=call,
                     hint="return the new state instead of changing anything outside the function.")
        state = new_state


@pytest.mark.exercise("sgd_step", points=2)
def test_sgd_step_updates_every_leaf(ex):
    got = ex.sgd_step(PARAMS, GRADS, 0.1)
    want = _leafwise(lambda p, g: p - np.float32(0.1) * g, PARAMS, GRADS)
    expect.close(got, want, call="sgd_step(params, grads, lr=0.1)",
                 hint="jax.tree.map(lambda p, g: p - lr * g, params, grads) updates weights and biases alike.")
