"""Tests for lesson 02: PRNG keys.

Your functions run under `jax.debug_key_reuse(True)`: a key that is consumed twice raises
`jax.errors.KeyReuseError`, which these tests turn into a message that names the function.
No expected value here is a hard-coded random number: each one is recomputed from the same seed.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grader import expect

REUSE_HINT = ("split first: k1, k2 = jax.random.split(key), then give each draw its own key "
              "(a key is spent once it has been used).")
VMAP_ERRORS = (jax.errors.TracerBoolConversionError, jax.errors.ConcretizationTypeError)


def key(seed):
    return jax.random.key(seed)


def run(fn, *args, call, static=(), name=None):
    """Call the learner's `fn(*args)` jitted (`static`: the positions of static arguments) with
    key-reuse checking on; a reused key becomes a failure that names the function."""
    __tracebackhide__ = True
    name = name or call.split("(", 1)[0]
    try:
        with jax.debug_key_reuse(True):
            return jitted(fn, static)(*args)
    except jax.errors.KeyReuseError:
        raise expect.failure(
            call, "each key used once (the tests run your code under jax.debug_key_reuse(True))",
            f"{name} used the same key twice (jax.errors.KeyReuseError)", REUSE_HINT) from None


def ref(fn, *args, static=()):
    """An expectation, computed jitted from its own keys (made from the same seeds as the learner's)."""
    return jitted(fn, static)(*args)


_JITTED = {}


def jitted(fn, static=()):
    """One jitted version per function, so each shape compiles once per session."""
    if (fn, static) not in _JITTED:
        _JITTED[(fn, static)] = jax.jit(fn, static_argnums=static)
    return _JITTED[(fn, static)]


def is_key_array(x):
    return isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def describe(x):
    """A short description that never converts a key array to NumPy (which raises)."""
    if is_key_array(x):
        return f"a typed key array of shape {x.shape}"
    if hasattr(x, "dtype") and hasattr(x, "shape"):
        return f"a {x.dtype} array of shape {x.shape}"
    if isinstance(x, (list, tuple)):
        items = ", ".join(describe(v) for v in x[:3]) + (", ..." if len(x) > 3 else "")
        return f"a {type(x).__name__} of {len(x)}: [{items}]"
    return expect.show(x)


def count_ops(jaxpr):
    """The number of operations in a jaxpr, counting those inside nested jaxprs (jit, cond, ...) too."""
    total = 0
    for eqn in jaxpr.eqns:
        total += 1
        for value in eqn.params.values():
            for sub in value if isinstance(value, (list, tuple)) else [value]:
                inner = getattr(sub, "jaxpr", sub)  # a ClosedJaxpr holds its Jaxpr in .jaxpr
                if hasattr(inner, "eqns"):
                    total += count_ops(inner)
    return total


# -- the expectations, computed from the same seeds ----------------------------------------------

def ref_key_bits(seed, n):
    return jax.random.key_data(jax.random.split(jax.random.key(seed), n))


def ref_layers(k, sizes):
    keys = jax.random.split(k, len(sizes) - 1)
    return [jax.random.normal(keys[i], (sizes[i], sizes[i + 1])) for i in range(len(sizes) - 1)]


def ref_noise(k, ids):
    return jnp.stack([jax.random.normal(jax.random.fold_in(k, ids[j])) for j in range(ids.shape[0])])


def ref_normals(k1, n, k2, k3):
    """Three ways to get n normals from one seed: the lesson's scheme (n keys, one normal each) from
    k1, one vectorised draw from k2, and a chain of splits (key, sub = split(key)) from k3."""
    keys = jax.random.split(k1, n)
    chain = []
    for _ in range(n):
        k3, sub = jax.random.split(k3)
        chain.append(jax.random.normal(sub))
    return (jnp.stack([jax.random.normal(keys[i]) for i in range(n)]), jax.random.normal(k2, (n,)),
            jnp.stack(chain))


def ref_hits(keys):
    xy = jax.vmap(lambda k: jax.random.uniform(k, (2,)))(keys)
    return (xy[:, 0] ** 2 + xy[:, 1] ** 2 <= 1.0).astype(jnp.float32)


def ref_hits_64(k):
    return ref_hits(jax.random.split(k, 64))


def ref_pi(k, n):
    return 4.0 * jnp.mean(ref_hits(jax.random.split(k, n)))


# -- make_keys -------------------------------------------------------------------------------------

@pytest.mark.exercise("make_keys", points=1)
def test_make_keys(ex):
    call = "make_keys(0, 4)"
    got = run(ex.make_keys, 0, 4, call=call, static=(1,))
    want = ref(ref_key_bits, 0, 4, static=(1,))
    expect.that(is_key_array(got) or isinstance(got, (jax.Array, np.ndarray)), call=call,
                expected="one array holding the 4 keys", returned=describe(got),
                hint="jax.random.split(key, n) returns all n keys as one array; return it as it is.")
    got_bits = jax.random.key_data(got) if is_key_array(got) else np.asarray(got)
    expect.equal(got_bits, want, call=call,
                 hint="jax.random.split(jax.random.key(seed), n) (keys compared through jax.random.key_data).")


@pytest.mark.exercise("make_keys", points=2)
def test_make_keys_gives_typed_keys(ex):
    call = "make_keys(3, 4)"
    got = run(ex.make_keys, 3, 4, call=call, static=(1,))
    expect.that(is_key_array(got) and got.shape == (4,), call=call,
                expected="a typed key array of shape (4,)", returned=describe(got),
                hint="jax.random.PRNGKey(seed) makes a legacy raw uint32 key; jax.random.key(seed) makes a "
                     "typed key, which JAX can check for reuse.")


# -- init_layers -----------------------------------------------------------------------------------

SIZES = (4, 4, 4, 2)  # layers 0 and 1 have the same shape, so a missing split shows


@pytest.mark.exercise("init_layers", points=2)
def test_init_layers(ex):
    sizes = SIZES
    call = f"init_layers(jax.random.key(0), {sizes})"
    got = run(ex.init_layers, key(0), sizes, call=call, static=(1,))
    want = ref(ref_layers, key(0), sizes, static=(1,))
    expect.that(isinstance(got, (list, tuple)) and len(got) == len(want), call=call,
                expected=f"a list of {len(want)} weight matrices", returned=describe(got))
    for i, (g, w) in enumerate(zip(got, want)):
        expect.shape(g, w.shape, call=call, hint=f"layer {i} maps sizes[{i}] inputs to sizes[{i + 1}] outputs.")
    for i, (g, w) in enumerate(zip(got, want)):
        expect.close(g, w, call=call + f", layer {i}", rtol=1e-5,
                     hint="keys = jax.random.split(key, len(sizes) - 1); layer i is "
                          "jax.random.normal(keys[i], (sizes[i], sizes[i + 1])).")


@pytest.mark.exercise("init_layers", points=2)
def test_init_layers_gives_each_layer_its_own_key(ex):
    sizes = SIZES
    call = f"init_layers(jax.random.key(1), {sizes})"
    a = run(ex.init_layers, key(1), sizes, call=call, static=(1,))
    b = run(ex.init_layers, key(2), sizes, call=f"init_layers(jax.random.key(2), {sizes})", static=(1,))
    expect.that(isinstance(a, (list, tuple)) and len(a) == 3 and len(b) == 3, call=call,
                expected="a list of 3 weight matrices", returned=describe(a))
    expect.that(not np.allclose(a[0], a[1]), call=call,
                expected="two 4x4 layers with different numbers", returned="layer 0 and layer 1 are identical",
                hint="one key per layer: keys = jax.random.split(key, len(sizes) - 1).")
    expect.that(not np.allclose(a[0], b[0]), call="init_layers with jax.random.key(1), then with jax.random.key(2)",
                expected="different keys give different weights", returned="the same weights for both keys",
                hint="draw from the key you are given; a key made from a fixed seed inside the function "
                     "gives the same numbers every time.")


# -- noise_for_ids ---------------------------------------------------------------------------------

@pytest.mark.exercise("noise_for_ids", points=2)
def test_noise_for_ids(ex):
    ids = np.array([3, 7, 1], dtype=np.int32)
    call = "noise_for_ids(jax.random.key(0), [3 7 1])"
    got = run(ex.noise_for_ids, key(0), ids, call=call)
    want = ref(ref_noise, key(0), ids)
    expect.shape(got, (3,), call=call, hint="one number per id.")
    expect.close(got, want, call=call, rtol=1e-5,
                 hint="entry j is jax.random.normal(jax.random.fold_in(key, ids[j])); "
                      "jax.vmap that function over ids.")


@pytest.mark.exercise("noise_for_ids", points=2)
def test_noise_for_ids_follows_the_id(ex):
    a = run(ex.noise_for_ids, key(5), np.array([3, 7, 1], dtype=np.int32),
            call="noise_for_ids(jax.random.key(5), [3 7 1])")
    b = run(ex.noise_for_ids, key(5), np.array([7, 1, 3], dtype=np.int32),
            call="noise_for_ids(jax.random.key(5), [7 1 3])")
    expect.shape(a, (3,), call="noise_for_ids(jax.random.key(5), [3 7 1])", hint="one number per id.")
    expect.close(b, np.asarray(a)[[1, 2, 0]], call="noise_for_ids with the same key and the batches [3 7 1], [7 1 3]",
                 rtol=1e-5, hint="each id keeps its number in any batch: fold the id into the key with "
                                 "jax.random.fold_in(key, id). Splitting by position ties the noise to the position.")


# -- one_normal_per_key ----------------------------------------------------------------------------

@pytest.mark.exercise("one_normal_per_key", points=3)
def test_one_normal_per_key(ex):
    call = "one_normal_per_key(jax.random.key(0), 5)"
    got = run(ex.one_normal_per_key, key(0), 5, call=call, static=(1,))
    want, one_draw, chain = ref(ref_normals, key(0), 5, key(0), key(0), static=(1,))
    expect.shape(got, (5,), call=call)
    hint = "keys = jax.random.split(key, n), then jax.vmap(jax.random.normal)(keys)."
    if np.allclose(got, one_draw):
        hint = ("that is jax.random.normal(key, (n,)), one vectorised draw from the unsplit key; the lesson "
                "asks for n keys with one normal each, which are other numbers.")
    elif np.allclose(got, chain):
        hint = ("that is a chain of splits (key, sub = jax.random.split(key) per draw): right in spirit, but "
                "another scheme. Split once into n keys: jax.random.split(key, n).")
    expect.close(got, want, call=call, rtol=1e-5, hint=hint)


# -- in_circle and estimate_pi ---------------------------------------------------------------------

@pytest.mark.exercise("in_circle", points=2)
def test_in_circle(ex):
    call = "jax.vmap(in_circle)(jax.random.split(jax.random.key(0), 64))"
    try:
        got = run(lambda k: jax.vmap(ex.in_circle)(jax.random.split(k, 64)), key(0), call=call, name="in_circle")
    except VMAP_ERRORS:
        raise expect.failure(call, "64 values, each 1.0 or 0.0", "an error: a Python `if` on a traced value",
                             "under vmap the values are not known yet; compare with <= and turn the result "
                             "into a number: (x**2 + y**2 <= 1).astype(jnp.float32).") from None
    want = ref(ref_hits_64, key(0))
    expect.shape(got, (64,), call=call, hint="in_circle returns a scalar (shape ()), so 64 keys give shape (64,).")
    expect.dtype(got, jnp.float32, call=call, hint="turn the comparison into a number with .astype(jnp.float32).")
    expect.equal(got, want, call=call,
                 hint="x, y = jax.random.uniform(key, (2,)); the point is in when x**2 + y**2 <= 1.")


N_PI = 1024


@pytest.mark.exercise("estimate_pi", points=2)
def test_estimate_pi(ex):
    call = f"estimate_pi(jax.random.key(0), {N_PI})"
    got = run(ex.estimate_pi, key(0), N_PI, call=call, static=(1,))
    again = run(ex.estimate_pi, key(0), N_PI, call=call, static=(1,))
    want = ref(ref_pi, key(0), N_PI, static=(1,))
    expect.shape(got, (), call=call, hint="return a scalar: 4 * the mean of the hits.")
    expect.close(got, want, call=call, rtol=1e-5,
                 hint="keys = jax.random.split(key, n); 4 * jnp.mean(jax.vmap(in_circle)(keys)).")
    expect.close(again, got, call=call + " again, with a new key from the same seed", rtol=0, atol=0,
                 hint="the estimate must depend only on the key: the same key gives the same estimate.")


@pytest.mark.exercise("estimate_pi", points=1)
def test_estimate_pi_is_accurate(ex):
    p = math.pi / 4
    tol = 5 * 4 * math.sqrt(p * (1 - p) / N_PI)  # five standard errors of the estimate
    estimates = []
    for seed in (1, 2, 3):
        call = f"estimate_pi(jax.random.key({seed}), {N_PI})"
        est = float(run(ex.estimate_pi, key(seed), N_PI, call=call, static=(1,)))
        expect.that(abs(est - math.pi) <= tol, call=call, expected=f"{math.pi:.4f} +- {tol:.3f}",
                    returned=f"{est:.4f}",
                    hint="every sample needs its own key; with one key for all of them, every sample is the same.")
        estimates.append(est)
    expect.that(len(set(estimates)) > 1, call=f"estimate_pi with seeds 1, 2, 3 and n={N_PI}",
                expected="different keys give different estimates", returned=f"{estimates}",
                hint="use the key you are given.")


@pytest.mark.exercise("estimate_pi", points=2)
def test_estimate_pi_uses_vmap(ex):
    def n_ops(n):
        return count_ops(jax.make_jaxpr(lambda k: ex.estimate_pi(k, n))(key(0)).jaxpr)

    small, large = n_ops(8), n_ops(16)
    expect.that(small == large, call="jax.make_jaxpr(lambda k: estimate_pi(k, n)) for n = 8 and n = 16",
                expected="the same program size for both n", returned=f"{small} operations for n=8, {large} for n=16",
                hint="a Python loop traces in_circle once per sample; jax.vmap(in_circle)(keys) traces it "
                     "once for all of them.")


# -- dropout ---------------------------------------------------------------------------------------

X = np.linspace(1.0, 2.0, 4096, dtype=np.float32).reshape(64, 64)
X_SHOWN = "x (64x64 float32, all entries in [1, 2])"


def dropped(fn, seed, p):
    return run(fn, key(seed), X, p, call=f"dropout(jax.random.key({seed}), {X_SHOWN}, {p})", static=(2,))


@pytest.mark.exercise("dropout", points=2)
def test_dropout_scales_kept_values(ex):
    call = f"dropout(jax.random.key(0), {X_SHOWN}, 0.8)"
    got = dropped(ex.dropout, 0, 0.8)
    expect.shape(got, X.shape, call=call, hint="the output has the shape of x.")
    expect.dtype(got, X.dtype, call=call, hint="the output has the dtype of x.")
    kept = np.asarray(got) != 0
    expect.that(kept.any() and not kept.all(), call=call, expected="some entries kept and some zeroed",
                returned=f"{kept.sum()} of {kept.size} kept",
                hint="keep = jax.random.bernoulli(key, p_keep, x.shape).")
    expect.close(np.where(kept, got, 0.0), np.where(kept, X / 0.8, 0.0), call=call + ", the kept entries",
                 rtol=1e-5, hint="inverted dropout divides the kept values by p_keep, so the mean stays the same.")


@pytest.mark.exercise("dropout", points=2)
def test_dropout_keep_rate(ex):
    for p in (0.8, 0.3):
        got = dropped(ex.dropout, 1, p)
        rate = float(np.mean(np.asarray(got) != 0))
        tol = 5 * math.sqrt(p * (1 - p) / X.size)  # five standard errors of the keep rate
        expect.that(abs(rate - p) <= tol, call=f"dropout(jax.random.key(1), {X_SHOWN}, {p})",
                    expected=f"a fraction {p} +- {tol:.3f} of the entries kept", returned=f"{rate:.3f} kept",
                    hint="p_keep is the chance to KEEP an entry: jax.random.bernoulli(key, p_keep, x.shape) is "
                         "True with probability p_keep.")


@pytest.mark.exercise("dropout", points=1)
def test_dropout_depends_on_the_key(ex):
    a, a2, b = dropped(ex.dropout, 2, 0.8), dropped(ex.dropout, 2, 0.8), dropped(ex.dropout, 3, 0.8)
    call = f"dropout(jax.random.key(2), {X_SHOWN}, 0.8) twice, then with jax.random.key(3)"
    expect.that(np.array_equal(a, a2), call=call, expected="the same output for the same key",
                returned="two different outputs", hint="draw the mask from the key you are given, nothing else.")
    expect.that(not np.array_equal(np.asarray(a) != 0, np.asarray(b) != 0), call=call,
                expected="different masks for different keys", returned="the same mask",
                hint="draw the mask from the key you are given; a key made inside from a fixed seed never changes.")
