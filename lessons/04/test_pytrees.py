"""Lesson 04 tests: pytrees. Inputs are small NumPy-built params; expectations are worked out leaf by
leaf in NumPy, so no test trusts a tree function to check a tree function."""
import collections

import jax
import numpy as np
import pytest

from grader.learner import expect

RNG = np.random.default_rng(4)


def _params():
    return {
        "hidden": {"w": RNG.normal(size=(3, 4)).astype(np.float32), "b": RNG.normal(size=4).astype(np.float32)},
        "out": {"w": RNG.normal(size=(4, 2)).astype(np.float32), "b": RNG.normal(size=2).astype(np.float32)},
    }


PARAMS = _params()
GRADS = _params()

# A pytree of another layout: a list, a tuple, deeper dicts and a namedtuple, for the functions the
# module asks to write with tree tools instead of loops over a dict's keys.
Pair = collections.namedtuple("Pair", ["left", "right"])


def _other_tree():
    def arr(*shape):
        return RNG.normal(size=shape).astype(np.float32)

    return {"blocks": [{"w": arr(2, 2)}, {"w": arr(2, 3), "extra": {"scale": arr(3)}}],
            "pair": Pair(arr(2), (arr(1, 2), arr()))}


OTHER = _other_tree()
OTHER_GRADS = jax.tree.map(lambda a: RNG.normal(size=a.shape).astype(np.float32), OTHER)
OTHER_SHOWN = "{'blocks': [{'w': (2, 2)}, {'w': (2, 3), 'extra': {'scale': (3,)}}], 'pair': Pair((2,), ((1, 2), ()))}"


def _leafwise(fn, *trees):
    """The NumPy version of tree.map for the fixed two-layer layout used here."""
    return {layer: {k: fn(*(t[layer][k] for t in trees)) for k in ("w", "b")} for layer in ("hidden", "out")}


def _other_leafwise(fn, *trees):
    """The NumPy version of tree.map for OTHER's layout, written out by hand."""
    def at(path):
        return fn(*(path(t) for t in trees))

    return {"blocks": [{"w": at(lambda t: t["blocks"][0]["w"])},
                       {"w": at(lambda t: t["blocks"][1]["w"]),
                        "extra": {"scale": at(lambda t: t["blocks"][1]["extra"]["scale"])}}],
            "pair": Pair(at(lambda t: t["pair"].left),
                         (at(lambda t: t["pair"].right[0]), at(lambda t: t["pair"].right[1])))}


def _raised(err):
    return f"an error: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"


@pytest.mark.exercise("scale", points=1)
def test_scale(ex):
    params = jax.tree.map(np.copy, PARAMS)
    got = ex.scale(params, 0.5)
    expect.close(got, _leafwise(lambda p: p * 0.5, PARAMS), call="scale(params, 0.5)",
                 hint="every leaf times the factor, in a tree of the same structure.")
    changed = [f"{layer}/{k}" for layer in PARAMS for k in PARAMS[layer] if not np.array_equal(params[layer][k],
                                                                                              PARAMS[layer][k])]
    expect.close(params, PARAMS, call="scale(params, 0.5), then looking at params",
                 hint=f"the caller's arrays {', '.join(changed)} were changed in place: build new leaves and "
                      "leave the ones you are given as they were.")


@pytest.mark.exercise("scale", points=1)
def test_scale_works_on_any_pytree(ex):
    call = f"scale({OTHER_SHOWN}, 2.0)"
    hint = ("scale must work on any pytree, not only a dict of layers: a loop over a dict's keys knows one "
            "layout. Let the tree tools walk the structure, whatever it is.")
    try:
        got = ex.scale(jax.tree.map(np.copy, OTHER), 2.0)
    except NotImplementedError:
        raise  # not written yet: the kit's own message says so
    except Exception as err:  # noqa: BLE001 - any error on another layout is this test's finding
        raise expect.failure(call, "the same tree with every leaf doubled", _raised(err), hint) from None
    expect.close(got, _other_leafwise(lambda a: 2.0 * a, OTHER), call=call, hint=hint)


@pytest.mark.exercise("count_params", points=2)
def test_count_params(ex):
    trees = [(PARAMS, 12 + 4 + 8 + 2), ({"only": np.zeros((5, 6, 7), np.float32)}, 210),
             ([np.zeros(3, np.float32), (np.zeros((2, 2), np.float32),)], 7)]
    for tree, want in trees:
        got = ex.count_params(tree)
        hint = "count the scalars inside the leaves, not the leaves."
        if got == len(jax.tree.leaves(tree)):
            hint = f"{got} is the number of leaves (arrays); count the scalars inside them: each leaf knows its size."
        elif got == want:
            hint = f"the count is right but came back as {type(got).__name__}: return a Python int."
        expect.that(got == want and isinstance(got, int), call=f"count_params({expect.show(tree)})",
                    expected=f"{want} (a Python int)", returned=f"{expect.show(got)} ({type(got).__name__})",
                    hint=hint)


def _sizes(ex, shapes, want, call):
    """sizes_of_shapes(shapes), or a failure that says what tree.map did with the shape tuples."""
    __tracebackhide__ = True
    try:
        return ex.sizes_of_shapes(shapes)
    except NotImplementedError:
        raise  # not written yet: the kit's own message says so
    except Exception as err:  # noqa: BLE001 - the error is what this test observed
        hint = ("jax.tree.map treats every tuple as a container: without is_leaf it walks into each shape and "
                "calls your function on its single dimensions.")
        if "int" in str(err) and "iterable" in str(err):
            hint = ("your function got a single dimension (an int), not a shape: jax.tree.map walks into a tuple "
                    "as into any container, so say with is_leaf which nodes are shapes.")
        elif "sequence" in str(err) or "tuple" in str(err):
            hint = ("your function got a tuple of shapes where it expected one shape: is_leaf said 'leaf' for a "
                    "tuple that holds shapes. A shape is a tuple of ints; a tuple of tuples is a container.")
        raise expect.failure(call, str(want), _raised(err), hint) from None


@pytest.mark.exercise("sizes_of_shapes", points=2)
def test_sizes_of_shapes(ex):
    shapes = {"hidden": {"w": (3, 4), "b": (4,)}, "out": {"w": (4, 2), "b": (2,)}, "scalar": ()}
    want = {"hidden": {"w": 12, "b": 4}, "out": {"w": 8, "b": 2}, "scalar": 1}
    call = f"sizes_of_shapes({shapes})"
    got = _sizes(ex, shapes, want, call)
    hint = "each shape tuple becomes one number, its product (() has size 1)."
    if isinstance(got, dict) and isinstance(got.get("hidden"), dict) and got["hidden"].get("w") == (3, 4):
        hint = ("the shapes came back unchanged: jax.tree.map walked into each tuple and only ever gave your "
                "function single dimensions. Say with is_leaf which nodes are shapes.")
    expect.that(got == want, call=call, expected=str(want), returned=expect.show(got), hint=hint)


@pytest.mark.exercise("sizes_of_shapes", points=1)
def test_sizes_of_shapes_in_tuples_and_lists(ex):
    shapes = {"pair": ((2, 3), (5,)), "stack": [(2, 2), ()]}
    want = {"pair": (6, 5), "stack": [4, 1]}
    call = f"sizes_of_shapes({shapes})"
    got = _sizes(ex, shapes, want, call)
    hint = "shapes can sit in tuples and lists too; each shape becomes its size, the containers stay."
    if isinstance(got, dict) and not isinstance(got.get("pair"), tuple):
        hint = (f"'pair' came back as {expect.show(got.get('pair'))}, not a tuple of two sizes: is_leaf took the "
                "tuple of shapes ((2, 3), (5,)) for one shape. A shape is a tuple of ints only.")
    expect.that(got == want, call=call, expected=str(want), returned=expect.show(got), hint=hint)


@pytest.mark.exercise("to_vector", points=2)
def test_to_vector(ex):
    got = ex.to_vector(PARAMS)
    leaves = [PARAMS["hidden"]["b"], PARAMS["hidden"]["w"], PARAMS["out"]["b"], PARAMS["out"]["w"]]
    want = np.concatenate([leaf.ravel() for leaf in leaves])  # dict keys come out sorted: "b" before "w"
    hint = "ravel each leaf and join them in jax.tree.leaves order (dict keys sorted)."
    inserted = np.concatenate([PARAMS[layer][k].ravel() for layer in PARAMS for k in PARAMS[layer]])
    if getattr(got, "shape", None) == want.shape and np.allclose(got, inserted):
        hint = ("the leaves are joined in the dicts' insertion order (w before b); jax.tree.leaves visits dict "
                "keys sorted, b before w: use its order.")
    expect.close(got, want, call="to_vector(params)", hint=hint)


@pytest.mark.exercise("from_vector", points=2)
def test_from_vector(ex):
    leaves, treedef = jax.tree.flatten(PARAMS)
    vector = np.arange(sum(leaf.size for leaf in leaves), dtype=np.float32)
    got = ex.from_vector(vector, PARAMS)
    pieces, start = [], 0
    for leaf in leaves:
        pieces.append(vector[start:start + leaf.size].reshape(leaf.shape))
        start += leaf.size
    hint = "cut the vector into one piece per leaf of `like`, in jax.tree.leaves order, each shaped like its leaf."
    got_shapes = [getattr(g, "shape", None) for g in jax.tree.leaves(got)]
    if len(got_shapes) == len(leaves) and got_shapes != [leaf.shape for leaf in leaves] and all(
            s == (leaf.size,) for s, leaf in zip(got_shapes, leaves)):
        hint = "the pieces came back flat (1-D): reshape each to the shape of its leaf in `like`."
    expect.close(got, jax.tree.unflatten(treedef, pieces), call="from_vector(arange(26.), like=params)", hint=hint)


def _dense(ex, name="hidden"):
    return ex.Dense(PARAMS["hidden"]["w"], PARAMS["hidden"]["b"], name)


def _same(a, b):
    return (isinstance(a, (np.ndarray, jax.Array)) and np.shape(a) == np.shape(b)
            and np.allclose(np.asarray(a), b))


def _brief(value):
    if isinstance(value, (np.ndarray, jax.Array)):
        return f"an array of shape {np.shape(value)}"
    return expect.show(value)


def _parts(layer):
    """What a rebuilt layer holds, briefly, for messages (never raising)."""
    return ", ".join(f"{n}={_brief(getattr(layer, n, '(missing)'))}" for n in ("w", "b", "name"))


def _rebuilt_wrongly(layer, w, b, name) -> str | None:
    """What is wrong with a layer rebuilt by tree_unflatten, said from what it holds."""
    if type(layer).__name__ != "Dense":
        return f"tree_unflatten returned {type(layer).__name__}, not a Dense."
    got = {n: getattr(layer, n, None) for n in ("w", "b", "name")}
    if _same(got["w"], b) and _same(got["b"], w):
        return ("the rebuilt layer has w and b swapped: tree_unflatten takes the children in another order than "
                "tree_flatten gives them out. Either order works, as long as both use the same one.")
    if not (isinstance(got["name"], str) and got["name"] == name):
        where = [n for n, v in got.items() if isinstance(v, str) and v == name]
        if where:
            return (f"the name {name!r} landed in `{where[0]}` and `name` holds {_brief(got['name'])}: "
                    "tree_unflatten hands the parts to the class in the wrong places; the name comes from "
                    "aux_data, the arrays from the children.")
        return (f"the rebuilt layer's name is {_brief(got['name'])}, not {name!r}: tree_unflatten must give "
                "back the name it receives in aux_data.")
    if not (_same(got["w"], w) and _same(got["b"], b)):
        return f"the rebuilt layer holds {_parts(layer)}: w and b must come back from the children."
    return None


@pytest.mark.exercise("Dense", points=2)
def test_dense_leaves_are_its_arrays(ex):
    layer = _dense(ex)
    w, b = PARAMS["hidden"]["w"], PARAMS["hidden"]["b"]
    call = "jax.tree.leaves(Dense(w, b, 'hidden'))"
    leaves = jax.tree.leaves(layer)
    hint = "tree_flatten returns (children, aux_data): the arrays are the children, the name is aux data."
    if any(isinstance(leaf, str) for leaf in leaves):
        hint = ("the name 'hidden' is among the leaves: tree_flatten returned it with the children, which JAX "
                "traces and maps. The name belongs in the aux data.")
    elif len(leaves) == 1 and not isinstance(leaves[0], (np.ndarray, jax.Array)):
        hint = "the whole layer is one leaf: JAX doesn't take it apart, so tree_flatten isn't registered or written."
    in_order = len(leaves) == 2 and (_same(leaves[0], w) and _same(leaves[1], b) or
                                     _same(leaves[0], b) and _same(leaves[1], w))
    expect.that(in_order, call=call, expected="the two arrays w and b (in either order)",
                returned=expect.show(leaves), hint=hint)
    map_call = "jax.tree.map(lambda leaf: 2 * leaf, Dense(w, b, 'hidden'))"
    doubled = jax.tree.map(lambda leaf: 2 * leaf, layer)
    wrong = _rebuilt_wrongly(doubled, 2 * w, 2 * b, "hidden")
    expect.that(wrong is None, call=map_call, expected="Dense(2 * w, 2 * b, 'hidden')", returned=_parts(doubled),
                hint=wrong)
    leaves, treedef = jax.tree.flatten(layer)
    rebuilt = jax.tree.unflatten(treedef, leaves)
    wrong = _rebuilt_wrongly(rebuilt, w, b, "hidden")
    expect.that(wrong is None, call="jax.tree.unflatten(*jax.tree.flatten(Dense(w, b, 'hidden'))[::-1])",
                expected="Dense(w, b, 'hidden') again", returned=_parts(rebuilt), hint=wrong)


@pytest.mark.exercise("Dense", points=2, concept=True)
def test_dense_name_is_static_under_jit(ex):
    seen = []

    @jax.jit
    def apply(layer, x):
        seen.append(layer.name)  # runs while tracing: aux data arrives as the plain Python value
        return layer(x)

    x = np.ones((1, 3), np.float32)
    w, b = PARAMS["hidden"]["w"], PARAMS["hidden"]["b"]
    call = "jax.jit(apply)(Dense(w, b, 'hidden'), x)"
    try:
        got = apply(_dense(ex), x)
    except NotImplementedError:
        raise  # not written yet: the kit's own message says so
    except Exception as err:  # noqa: BLE001 - said from what flatten and unflatten do
        children = None
        try:
            children, _ = _dense(ex).tree_flatten()
        except Exception:  # noqa: BLE001
            pass
        if children is not None and any(isinstance(c, str) for c in children):
            hint = ("tree_flatten returns the name among the children, and jit can trace only arrays: the name "
                    "belongs in the aux data.")
        else:
            leaves, treedef = jax.tree.flatten(_dense(ex))
            try:
                hint = _rebuilt_wrongly(jax.tree.unflatten(treedef, leaves), w, b, "hidden")
            except Exception as inner:  # noqa: BLE001
                hint = f"tree_unflatten itself raised {type(inner).__name__}: it gets (aux_data, children)."
            hint = hint or "jit flattens the layer, traces its children and rebuilds it with tree_unflatten."
        raise expect.failure(call, "the layer's output", _raised(err), hint) from None
    expect.that(seen == ["hidden"], call=call,
                expected="layer.name == 'hidden' inside jit", returned=expect.show(seen),
                hint="inside jit the layer is rebuilt by tree_unflatten: the name must come back from aux_data as "
                     "the plain string.")
    expect.close(got, x @ w + b, call="Dense(w, b, 'hidden')(x) under jit")
    renamed = ex.Dense(w, b, "other")
    expect.that(jax.tree.structure(renamed) != jax.tree.structure(_dense(ex)),
                call="jax.tree.structure(Dense(..., 'other')) == jax.tree.structure(Dense(..., 'hidden'))",
                expected="False: the name is part of the structure", returned="True",
                hint="two layers with other names have the same structure: the name is not in the aux data, which "
                     "JAX compares as part of the structure.")


@pytest.mark.exercise("init_state", points=1)
def test_init_state(ex):
    got = ex.init_state()
    expect.equal(got, {"count": np.int32(0), "total": np.float32(0.0)}, call="init_state()",
                 hint="two zero scalars: the count as int32 and the total as float32.")


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
                     hint="the mean counts every x so far, this one included, from the state passed in.")
        expect.close(again, mean, call=call + " a second time",
                     hint="the same state and x gave another mean: all the function knows must come in "
                          "through state; keep no globals.")
        expect.close(new_state, {"count": np.int32(i + 1), "total": np.float32(sum(xs[: i + 1]))}, call=call,
                     hint="return the new state, with x counted and added to the total.")
        state = new_state


@pytest.mark.exercise("running_mean", points=1)
def test_running_mean_leaves_the_callers_state_alone(ex):
    state = {"count": np.array(2, np.int32), "total": np.array(5.0, np.float32)}
    call = "running_mean(state, 4.0) without jit, then looking at state"
    try:
        ex.running_mean(state, np.float32(4.0))
    except jax.errors.UnexpectedTracerError:
        pass  # a tracer kept in a global by a jitted call before: the jit test charges that; look at state
    now = {k: np.asarray(v).item() if np.size(v) == 1 else expect.show(v) for k, v in state.items()}
    expect.that(set(state) == {"count", "total"} and now == {"count": 2, "total": 5.0}, call=call,
                expected="state unchanged: {'count': 2, 'total': 5.0}", returned=f"state is now {now}",
                hint="running_mean wrote into the dict it was given: under jit that goes unseen, but called "
                     "directly it changes the caller's state. Build a new dict for the new state.")


@pytest.mark.exercise("sgd_step", points=2)
def test_sgd_step_updates_every_leaf(ex):
    got = ex.sgd_step(PARAMS, GRADS, 0.1)
    want = _leafwise(lambda p, g: p - np.float32(0.1) * g, PARAMS, GRADS)
    hint = "every leaf becomes param - lr * grad, weights and biases alike."
    if isinstance(got, dict) and all(isinstance(got.get(n), dict) and _same(got[n].get("b"), PARAMS[n]["b"])
                                     for n in PARAMS):
        hint = "the biases came back unchanged: every leaf is a parameter, biases included."
    expect.close(got, want, call="sgd_step(params, grads, lr=0.1)", hint=hint)
    call = f"sgd_step({OTHER_SHOWN}, grads, lr=0.1)"
    hint = ("sgd_step must work on any pytree, not only a dict of layers: a loop over a dict's keys knows one "
            "layout. Let the tree tools walk params and grads together.")
    try:
        got = ex.sgd_step(OTHER, OTHER_GRADS, 0.1)
    except NotImplementedError:
        raise  # not written yet: the kit's own message says so
    except Exception as err:  # noqa: BLE001 - any error on another layout is this check's finding
        raise expect.failure(call, "params - 0.1 * grads at every leaf", _raised(err), hint) from None
    expect.close(got, _other_leafwise(lambda p, g: p - np.float32(0.1) * g, OTHER, OTHER_GRADS), call=call, hint=hint)
