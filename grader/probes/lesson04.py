"""Lesson 04 probes: the tree functions on fresh params (a dict of two or three layers with random
names, inserted out of sorted order, each {"w", "b"} of random shape), on random nested trees for
`count_params`, and on random dicts of shape tuples. `scale` also returns the caller's params after
the call, and `scale` and `sgd_step` also run on trees of other layouts (lists, tuples); shape tuples also
come inside tuples and lists; `Dense` is driven through flatten, `tree.map`, unflatten and `jax.jit`,
with its children in either order; `running_mean` is threaded under `jax.jit` from a random starting
state, each step called twice, and called once directly to see that the caller's dict is left alone."""
import jax
import numpy as np

from grader.probes import Probes

PROBES = Probes("04")
LAYER_NAMES = ("embed", "hidden", "mid", "out", "head", "body")


def _normal(rng, *shape):
    return rng.normal(size=shape).astype(np.float32)


def _params(rng):
    names = [str(n) for n in rng.choice(LAYER_NAMES, int(rng.integers(2, 4)), replace=False)]
    if names == sorted(names):
        names.reverse()
    sizes = [int(s) for s in rng.integers(1, 5, size=len(names) + 1)]
    return {name: {"w": _normal(rng, sizes[i], sizes[i + 1]), "b": _normal(rng, sizes[i + 1])}
            for i, name in enumerate(names)}


def _tree(rng, depth=0):
    """A random nested dict/list/tuple of float32 arrays (0-d to 3-d)."""
    kind = int(rng.integers(0, 4)) if depth < 2 else 3
    width = int(rng.integers(1, 4))
    if kind == 0:
        return {f"k{i}": _tree(rng, depth + 1) for i in range(width)}
    if kind == 1:
        return [_tree(rng, depth + 1) for _ in range(width)]
    if kind == 2:
        return tuple(_tree(rng, depth + 1) for _ in range(width))
    return np.zeros(tuple(int(d) for d in rng.integers(1, 6, size=int(rng.integers(0, 4)))), np.float32)


def _shapes(rng, depth=0):
    """A random nested dict whose leaves are shape tuples of Python ints, () included."""
    out = {}
    for i in range(int(rng.integers(2, 4))):
        if depth < 2 and rng.random() < 0.4:
            out[f"n{i}"] = _shapes(rng, depth + 1)
        else:
            out[f"s{i}"] = tuple(int(d) for d in rng.integers(1, 7, size=int(rng.integers(0, 4))))
    return out


@PROBES("scale", make=lambda rng: {"params": _params(rng), "factor": float(rng.uniform(-2, 2))},
        guards=("test_scale",))
def scale(ex, params, factor):
    given = jax.tree.map(np.array, params)
    return ex.scale(given, factor), given


def _any_tree(rng):
    """A tree of another layout than a dict of layers: a list and a tuple at least, nested dicts maybe."""
    return {"items": [_tree(rng, 1), (_tree(rng, 2), _normal(rng, 2))], "more": _tree(rng, 1)}


@PROBES("scale", make=lambda rng: {"tree": _any_tree(rng), "factor": float(rng.uniform(-2, 2))},
        name="scale_any_tree", guards=("test_scale_works_on_any_pytree",))
def scale_any_tree(ex, tree, factor):
    return ex.scale(tree, factor)


@PROBES("count_params", make=lambda rng: {"trees": [_params(rng), {"top": _tree(rng, 1), "more": _tree(rng)}]})
def count_params(ex, trees):
    counts = [ex.count_params(tree) for tree in trees]
    return counts, [type(c) is int for c in counts]


@PROBES("sizes_of_shapes", make=lambda rng: {"shapes": _shapes(rng)}, guards=("test_sizes_of_shapes",))
def sizes_of_shapes(ex, shapes):
    return ex.sizes_of_shapes(shapes)


def _shape(rng):
    return tuple(int(d) for d in rng.integers(1, 7, size=int(rng.integers(0, 4))))


def _shapes_in_containers(rng):
    """Shapes held in tuples and lists: a tuple of shapes is a container, not a shape."""
    return {"shapes": {"pair": (_shape(rng), _shape(rng)), "stack": [_shape(rng) for _ in range(int(rng.integers(1, 4)))],
                       "one": _shape(rng)}}


@PROBES("sizes_of_shapes", make=_shapes_in_containers, name="sizes_in_containers",
        guards=("test_sizes_of_shapes_in_tuples_and_lists",))
def sizes_in_containers(ex, shapes):
    return ex.sizes_of_shapes(shapes)


@PROBES("to_vector", make=lambda rng: {"params": _params(rng)})
def to_vector(ex, params):
    return ex.to_vector(params)


def _from_vector_inputs(rng):
    like = _params(rng)
    size = sum(leaf.size for leaf in jax.tree.leaves(like))
    return {"vector": _normal(rng, size), "like": like}


@PROBES("from_vector", make=_from_vector_inputs)
def from_vector(ex, vector, like):
    return ex.from_vector(vector, like)


def _dense_inputs(rng):
    k, m = int(rng.integers(2, 6)), int(rng.integers(1, 5))
    return {"w": _normal(rng, k, m), "b": _normal(rng, m), "name": str(rng.choice(LAYER_NAMES)),
            "factor": float(rng.uniform(-3, 3)), "x": _normal(rng, int(rng.integers(1, 4)), k)}


@PROBES("Dense", make=_dense_inputs, name="dense_as_tree")
def dense_as_tree(ex, w, b, name, factor, x):
    layer = ex.Dense(w, b, name)
    mapped = jax.tree.map(lambda leaf: factor * leaf, layer)
    leaves, treedef = jax.tree.flatten(layer)
    rebuilt = jax.tree.unflatten(treedef, [leaf + 1 for leaf in leaves])
    # any consistent child order passes, as in the public tests: the leaves are compared w first
    leaves = sorted(leaves, key=lambda leaf: -np.ndim(leaf))
    return {"leaves": leaves, "mapped": [mapped.w, mapped.b], "rebuilt": [rebuilt.w, rebuilt.b],
            "kept": [type(mapped) is ex.Dense, _is_name(mapped, name), _is_name(rebuilt, name)]}


def _is_name(layer, name):
    value = getattr(layer, "name", None)
    return type(value) is str and str.__eq__(value, name) is True  # a str subclass may equal anything


@PROBES("Dense", make=_dense_inputs, name="dense_under_jit")
def dense_under_jit(ex, w, b, name, factor, x):
    seen = []

    def apply(layer, x):
        seen.append(layer.name)
        return layer(x)

    layer = ex.Dense(w, b, name)
    out = jax.jit(apply)(layer, x)
    same = jax.tree.structure(ex.Dense(factor * w, b, name)) == jax.tree.structure(layer)
    renamed = jax.tree.structure(ex.Dense(w, b, name + "_2")) != jax.tree.structure(layer)
    named = len(seen) == 1 and _is_name(layer, name) and type(seen[0]) is str and str.__eq__(seen[0], name) is True
    return {"out": out, "static": [named, same is True, renamed is True]}


@PROBES("init_state", make=lambda rng: {})
def init_state(ex):
    state = ex.init_state()
    return state, {k: str(np.asarray(v).dtype) for k, v in state.items()}


def _running_inputs(rng):
    count = int(rng.integers(0, 8))
    return {"count": np.int32(count), "total": np.float32(count * rng.normal()),
            "xs": rng.normal(0, 4, size=int(rng.integers(3, 6))).astype(np.float32)}


@PROBES("running_mean", make=_running_inputs, guards=("test_running_mean_threads_its_state",))
def running_mean(ex, count, total, xs):
    step = jax.jit(ex.running_mean)
    state, steps = {"count": count, "total": total}, []
    for x in xs:
        mean, new_state = step(state, x)
        again, _ = step(state, x)
        steps.append((mean, again, new_state))
        state = new_state
    return steps


@PROBES("running_mean", make=_running_inputs, name="running_mean_keeps_state",
        guards=("test_running_mean_leaves_the_callers_state_alone",))
def running_mean_keeps_state(ex, count, total, xs):
    """Called directly (no jit) on the caller's dict: the dict must hold what it held before."""
    state = {"count": np.array(count), "total": np.array(total)}
    try:
        ex.running_mean(state, xs[0])
    except jax.errors.UnexpectedTracerError:
        pass  # a tracer kept in a global by a jitted call: the threading test's finding, as in public
    return {k: np.asarray(v) for k, v in state.items()}


def _sgd_inputs(rng):
    params, other = _params(rng), _any_tree(rng)
    return {"params": params, "grads": jax.tree.map(lambda p: _normal(rng, *p.shape), params),
            "other": other, "other_grads": jax.tree.map(lambda p: _normal(rng, *p.shape), other),
            "lr": float(rng.uniform(0.01, 0.5))}


@PROBES("sgd_step", make=_sgd_inputs)
def sgd_step(ex, params, grads, other, other_grads, lr):
    return ex.sgd_step(params, grads, lr), ex.sgd_step(other, other_grads, lr)
