"""Tests for lesson 02: PRNG keys.

Your functions run jitted, under `jax.debug_key_reuse(True)`: a key that is consumed twice raises
`jax.errors.KeyReuseError`, which these tests turn into a message that names the function.
No expected value here is a hard-coded random number: each one is recomputed from the same seed.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grader.learner import expect, jaxprs

REUSE_HINT = ("a key is spent once it has been drawn from: split it first and give each draw its own "
              "key (the README's 'A key is used once').")
VMAP_ERRORS = (jax.errors.TracerBoolConversionError, jax.errors.ConcretizationTypeError)


def key(seed):
    return jax.random.key(seed)


def run(fn, *args, call, static=(), name=None, ref=None):
    """Call the learner's `fn(*args)` jitted (`static`: the positions of static arguments) with
    key-reuse checking on; a reused key becomes a failure that names the function.

    With `ref`, returns `(fn(*args), ref(*args))`: the reference that checks the call runs in the same
    compiled program (one XLA compile instead of two), from its own copies of the keys."""
    __tracebackhide__ = True
    name = name or call.split("(", 1)[0]
    ref_args = tuple(copy_key(a) for a in args) if ref is not None else ()
    if ref is not None:
        jaxprs.not_unrolled(fn, args, ref, call=f"{call} under jax.jit", static_argnums=static,
                            what="the number of samples")
    try:
        with jax.debug_key_reuse(True):
            return jitted(fn, static, ref, len(args))(*args, *ref_args)
    except jax.errors.KeyReuseError:
        raise expect.failure(
            call, "each key used once (the tests run your code under jax.debug_key_reuse(True))",
            f"{name} used the same key twice (jax.errors.KeyReuseError)", REUSE_HINT) from None


def copy_key(arg):
    """A new key array holding the same key (a key never reaches two functions in one program)."""
    return jax.random.wrap_key_data(jax.random.key_data(arg)) if is_key_array(arg) else arg


_JITTED = {}


def jitted(fn, static=(), ref=None, n_args=0):
    """One jitted program per function (and reference), so each shape compiles once per session."""
    cache_key = (fn, static, ref, n_args)
    if cache_key not in _JITTED:
        if ref is None:
            _JITTED[cache_key] = jax.jit(fn, static_argnums=static)
        else:
            def both(*args):
                return fn(*args[:n_args]), ref(*args[n_args:])

            _JITTED[cache_key] = jax.jit(both, static_argnums=static + tuple(n_args + i for i in static))
    return _JITTED[cache_key]


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
    """The number of operations in a jaxpr, counting those inside nested jaxprs too."""
    return sum(1 for _ in jaxprs.equations(jaxpr))


DRAWS = ("random_bits", "threefry2x32")  # the primitives that turn a key into random numbers


def why_the_key_changes_nothing(fn, *args, static=(), what="numbers"):
    """Called when two different keys gave the same output: what the traced program shows about why.
    It looks for random draws and for keys made from a seed inside the function."""
    try:
        names = {e.primitive.name for e in jaxprs.equations(jax.make_jaxpr(fn, static_argnums=static)(*args).jaxpr)}
    except Exception:  # noqa: BLE001 - the failing check already says what was observed
        names = set(DRAWS)
    if not names & set(DRAWS):
        return (f"the jitted program draws no random numbers at all, so the {what} are a constant: they "
                "came from NumPy's (or Python's) random, which ran once, while jax.jit traced the "
                "function, and were frozen into the program. Draw them with jax.random from the key argument.")
    if "random_seed" in names:
        return (f"the function makes a key of its own from a seed (jax.random.key or PRNGKey inside it) and "
                f"draws the {what} from that one, so they are the same whatever key it is given. Draw "
                "from the key argument.")
    return f"the {what} do not change with the key argument: draw them from that key."


# -- the expectations, computed from the same seeds ----------------------------------------------

def ref_key_bits(seed, n):
    return jax.random.key_data(jax.random.split(jax.random.key(seed), n))


def ref_layers(k, sizes):
    keys = jax.random.split(k, len(sizes) - 1)
    return [jax.random.normal(keys[i], (sizes[i], sizes[i + 1])) for i in range(len(sizes) - 1)]


def ref_noise(k, ids):
    return jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(k, i)))(ids)


def ref_normals(k, n):
    return jax.vmap(jax.random.normal)(jax.random.split(k, n))


def in_circle_ref(k):
    """The docstring's in_circle: the estimate_pi tests put it in place of the learner's, so a mistake
    in in_circle costs the in_circle test only."""
    x, y = jax.random.uniform(k, (2,))
    return (x**2 + y**2 <= 1.0).astype(jnp.float32)


N_PI = 64  # samples, for in_circle's test and estimate_pi's


def ref_hits(k):
    return jax.vmap(in_circle_ref)(jax.random.split(k, N_PI))


def ref_pi(k, n):
    return 4.0 * jnp.mean(jax.vmap(in_circle_ref)(jax.random.split(k, n)))


# -- make_keys -------------------------------------------------------------------------------------

def _make_keys_hint(got_bits, seed, n):
    """What the returned keys are, when they are not split(key(seed), n)."""
    nearby = np.asarray(jax.random.key_data(jax.vmap(jax.random.key)(seed + jnp.arange(n))))
    if got_bits.shape == nearby.shape and np.array_equal(got_bits, nearby):
        return ("those are the keys of the seeds seed, seed + 1, ...: nearby seeds, not keys split from one "
                "key. Make one key from the seed and split it into n in one call.")
    return "make one key from the seed, then split it into n keys with a single split call."


@pytest.mark.exercise("make_keys", points=1)
def test_make_keys(ex):
    call = "make_keys(0, 4)"
    got, want = run(ex.make_keys, 0, 4, call=call, static=(1,), ref=ref_key_bits)
    expect.that(is_key_array(got) or isinstance(got, (jax.Array, np.ndarray)), call=call,
                expected="one array holding the 4 keys", returned=describe(got),
                hint="a split into n keys already returns them as one array: return that array as it is.")
    got_bits = np.asarray(jax.random.key_data(got) if is_key_array(got) else got)
    if not (got_bits.shape == want.shape and np.array_equal(got_bits, want)):
        expect.equal(got_bits, want, call=call + " (keys compared through jax.random.key_data)",
                     hint=_make_keys_hint(got_bits, 0, 4))


@pytest.mark.exercise("make_keys", points=2)
def test_make_keys_gives_typed_keys(ex):
    call = "make_keys(3, 4)"
    got, _ = run(ex.make_keys, 3, 4, call=call, static=(1,), ref=ref_key_bits)
    hint = "make the key with jax.random.key(seed): a typed key, which JAX can check for reuse."
    if isinstance(got, (jax.Array, np.ndarray)) and not is_key_array(got) and got.dtype == np.uint32:
        hint = ("that is a legacy raw key (uint32 numbers, as jax.random.PRNGKey makes); jax.random.key(seed) "
                "makes a typed key, which JAX can check for reuse.")
    expect.that(is_key_array(got) and got.shape == (4,), call=call,
                expected="a typed key array of shape (4,)", returned=describe(got), hint=hint)


# -- init_layers -----------------------------------------------------------------------------------

SIZES = (4, 4, 4, 2)  # layers 0 and 1 have the same shape, so a missing split shows


def _layers_hint(got, k, sizes):
    """What the layers are, when they are not the docstring's: a chain of splits is the likely scheme."""
    chain, k2 = [], k
    for m, n in zip(sizes[:-1], sizes[1:]):
        k2, sub = jax.random.split(k2)
        chain.append(jax.random.normal(sub, (m, n)))
    if all(np.allclose(g, c, rtol=1e-5) for g, c in zip(got, chain)):
        return ("those layers come from a chain of splits (a new key split off before each layer): one key "
                "per layer, but not the docstring's scheme, which splits the key once into len(sizes) - 1 keys.")
    return "split the key once into len(sizes) - 1 keys, then layer i draws a standard normal from key i."


@pytest.mark.exercise("init_layers", points=2)
def test_init_layers(ex):
    sizes = SIZES
    call = f"init_layers(jax.random.key(0), {sizes})"
    got, want = run(ex.init_layers, key(0), sizes, call=call, static=(1,), ref=ref_layers)
    expect.that(isinstance(got, (list, tuple)) and len(got) == len(want), call=call,
                expected=f"a list of {len(want)} weight matrices", returned=describe(got))
    for i, (g, w) in enumerate(zip(got, want)):
        expect.shape(g, w.shape, call=call, hint=f"layer {i} maps sizes[{i}] inputs to sizes[{i + 1}] outputs.")
    if not all(np.allclose(g, w, rtol=1e-5, atol=1e-6) for g, w in zip(got, want)):
        hint = _layers_hint(got, key(0), sizes)
        for i, (g, w) in enumerate(zip(got, want)):
            expect.close(g, w, call=call + f", layer {i}", rtol=1e-5, hint=hint)


@pytest.mark.exercise("init_layers", points=2)
def test_init_layers_gives_each_layer_its_own_key(ex):
    sizes = SIZES
    call = f"init_layers(jax.random.key(1), {sizes})"
    a, _ = run(ex.init_layers, key(1), sizes, call=call, static=(1,), ref=ref_layers)
    b, _ = run(ex.init_layers, key(2), sizes, call=f"init_layers(jax.random.key(2), {sizes})", static=(1,),
               ref=ref_layers)
    expect.that(isinstance(a, (list, tuple)) and len(a) == 3 and len(b) == 3, call=call,
                expected="a list of 3 weight matrices", returned=describe(a))
    expect.that(not np.allclose(a[0], a[1]), call=call,
                expected="two 4x4 layers with different numbers", returned="layer 0 and layer 1 are identical",
                hint="both layers were drawn from the same key: give each layer a key of its own.")
    expect.that(not np.allclose(a[0], b[0]), call="init_layers with jax.random.key(1), then with jax.random.key(2)",
                expected="different keys give different weights", returned="the same weights for both keys",
                hint=why_the_key_changes_nothing(ex.init_layers, key(1), sizes, static=(1,), what="weights"))


# -- noise_for_ids ---------------------------------------------------------------------------------

IDS = np.array([3, 7, 1], dtype=np.int32)


def _noise_hint(ex, got):
    """What the noise is, when it is not fold_in(key, id)'s: the same for another key, or tied to positions."""
    other, _ = run(ex.noise_for_ids, key(9), IDS, call="noise_for_ids(jax.random.key(9), [3 7 1])", ref=ref_noise)
    if np.allclose(other, got):
        return why_the_key_changes_nothing(ex.noise_for_ids, key(0), IDS, what="noise values")
    by_position = jitted(ref_noise)(key(0), np.arange(3, dtype=np.int32))
    if np.allclose(got, by_position, rtol=1e-5):
        return ("that is the noise of the positions 0, 1, 2, not of the ids 3, 7, 1: fold the id itself "
                "into the key.")
    return "entry j is one standard normal drawn from the key with ids[j] folded in (jax.random.fold_in)."


@pytest.mark.exercise("noise_for_ids", points=2)
def test_noise_for_ids(ex):
    call = "noise_for_ids(jax.random.key(0), [3 7 1])"
    got, want = run(ex.noise_for_ids, key(0), IDS, call=call, ref=ref_noise)
    expect.shape(got, (3,), call=call, hint="one number per id.")
    if not np.allclose(got, want, rtol=1e-5, atol=1e-6):
        expect.close(got, want, call=call, rtol=1e-5, hint=_noise_hint(ex, got))


@pytest.mark.exercise("noise_for_ids", points=2)
def test_noise_for_ids_follows_the_id(ex):
    a, _ = run(ex.noise_for_ids, key(5), IDS, call="noise_for_ids(jax.random.key(5), [3 7 1])", ref=ref_noise)
    b, _ = run(ex.noise_for_ids, key(5), IDS[[1, 2, 0]], call="noise_for_ids(jax.random.key(5), [7 1 3])",
               ref=ref_noise)
    expect.shape(a, (3,), call="noise_for_ids(jax.random.key(5), [3 7 1])", hint="one number per id.")
    hint = ("id 7 got another number when it moved to another place in the batch: the noise follows the "
            "position. Derive each id's key from the id itself (fold it into the key).")
    if np.allclose(a, b):
        hint = ("the batch [7 1 3] got the very numbers of [3 7 1], position by position: the noise does not "
                "depend on the ids at all. Derive each id's key from the id itself (fold it into the key).")
    expect.close(b, np.asarray(a)[[1, 2, 0]], call="noise_for_ids with the same key and the batches [3 7 1], [7 1 3]",
                 rtol=1e-5, hint=hint)


@pytest.mark.exercise("noise_for_ids", points=1, concept=True)
def test_noise_for_ids_uses_vmap(ex):
    def n_ops(b):
        return count_ops(jax.make_jaxpr(ex.noise_for_ids)(key(0), np.arange(b, dtype=np.int32)).jaxpr)

    small, large = n_ops(3), n_ops(6)
    expect.that(small == large, call="jax.make_jaxpr(noise_for_ids)(key, ids) for 3 ids and for 6 ids",
                expected="the same program size for both batches",
                returned=f"{small} operations for 3 ids, {large} for 6",
                hint="the program grows with the number of ids: a Python loop traces the per-id work once per "
                     "id. jax.vmap traces it once for the whole batch.")


# -- one_normal_per_key ----------------------------------------------------------------------------

def _normals_hint(got, k, n):
    if np.allclose(got, jax.random.normal(k, (n,)), rtol=1e-5):
        return ("those are the numbers of one vectorised draw of shape (n,) from the unsplit key; the lesson "
                "asks for n keys with one normal each, which are other numbers (the README says why).")
    chain, k2 = [], k
    for _ in range(n):
        k2, sub = jax.random.split(k2)
        chain.append(jax.random.normal(sub))
    if np.allclose(got, jnp.stack(chain), rtol=1e-5):
        return ("those come from a chain of splits (a new key split off before each draw): one key per "
                "number, but another scheme. Split the key once into n keys.")
    return "split the key once into n keys and draw one standard normal from each, with vmap over the keys."


@pytest.mark.exercise("one_normal_per_key", points=3)
def test_one_normal_per_key(ex):
    call = "one_normal_per_key(jax.random.key(0), 5)"
    got, want = run(ex.one_normal_per_key, key(0), 5, call=call, static=(1,), ref=ref_normals)
    expect.shape(got, (5,), call=call)
    if not np.allclose(got, want, rtol=1e-5, atol=1e-6):
        expect.close(got, want, call=call, rtol=1e-5, hint=_normals_hint(got, key(0), 5))


# -- in_circle and estimate_pi ---------------------------------------------------------------------

@pytest.mark.exercise("in_circle", points=2)
def test_in_circle(ex):
    call = f"jax.vmap(in_circle)(jax.random.split(jax.random.key(0), {N_PI}))"
    try:
        got, want = run(lambda k: jax.vmap(ex.in_circle)(jax.random.split(k, N_PI)), key(0), call=call,
                        name="in_circle", ref=ref_hits)
    except VMAP_ERRORS:
        raise expect.failure(call, f"{N_PI} values, each 1.0 or 0.0", "an error: a Python `if` on a traced value",
                             "under vmap the point's values are not known yet, so Python can't branch on them: "
                             "compute the hit as an array (a comparison turned into a number).") from None
    expect.shape(got, (N_PI,), call=call,
                 hint=f"in_circle returns a scalar (shape ()), so {N_PI} keys give shape ({N_PI},).")
    expect.dtype(got, jnp.float32, call=call,
                 hint=f"the hits came back as {getattr(got, 'dtype', '?')}: turn the comparison into float32.")
    expect.equal(got, want, call=call,
                 hint="the point is two uniform numbers drawn together, in one call of shape (2,), from the key; "
                      "it is in when x**2 + y**2 <= 1.")


@pytest.fixture
def reference_in_circle(ex):
    """Puts the docstring's in_circle in place of the learner's for one test, so estimate_pi is judged on
    its own work (a mistake in in_circle costs the in_circle test, not estimate_pi's too)."""
    module = getattr(ex, "_module", ex)  # the module itself, under the tests' `ex` wrapper
    old = module.__dict__.get("in_circle")
    module.in_circle = in_circle_ref
    try:
        yield
    finally:
        if old is None:
            del module.in_circle
        else:
            module.in_circle = old


def _pi_hint(got, k, n):
    one_draw = jax.random.uniform(k, (n, 2))
    if np.isclose(got, 4.0 * jnp.mean(jnp.sum(one_draw**2, axis=1) <= 1.0), rtol=1e-5):
        return ("that is the estimate from one draw of all n points from the unsplit key; the docstring's "
                "scheme splits the key into n keys and runs in_circle on each.")
    return "the estimate is 4 times the mean of in_circle over n keys split from the key."


@pytest.mark.exercise("estimate_pi", points=2)
def test_estimate_pi(ex, reference_in_circle):
    estimate_pi = ex.estimate_pi
    call = f"estimate_pi(jax.random.key(0), {N_PI})"
    got, want = run(estimate_pi, key(0), N_PI, call=call, static=(1,), ref=ref_pi)
    again, _ = run(estimate_pi, key(0), N_PI, call=call, static=(1,), ref=ref_pi)
    expect.shape(got, (), call=call, hint="return a scalar: 4 times the mean of the hits.")
    if not np.isclose(got, want, rtol=1e-5, atol=1e-6):
        expect.close(got, want, call=call, rtol=1e-5, hint=_pi_hint(got, key(0), N_PI))
    expect.close(again, got, call=call + " again, with a new key from the same seed", rtol=0, atol=0,
                 hint="the same key gave another estimate: the estimate must depend only on the key.")


@pytest.mark.exercise("estimate_pi", points=1)
def test_estimate_pi_is_accurate(ex, reference_in_circle):
    estimate_pi = ex.estimate_pi
    p = math.pi / 4
    tol = 5 * 4 * math.sqrt(p * (1 - p) / N_PI)  # five standard errors of the estimate
    estimates = []
    for seed in (1, 2, 3):
        call = f"estimate_pi(jax.random.key({seed}), {N_PI})"
        est = float(run(estimate_pi, key(seed), N_PI, call=call, static=(1,), ref=ref_pi)[0])
        hint = "the estimate is 4 times the fraction of points inside the quarter circle."
        if est in (0.0, 4.0):
            hint = ("all the samples landed on the same side: they all share one point, so one key served "
                    "every sample. Give each sample a key of its own.")
        expect.that(abs(est - math.pi) <= tol, call=call, expected=f"{math.pi:.4f} +- {tol:.3f}",
                    returned=f"{est:.4f}", hint=hint)
        estimates.append(est)
    expect.that(len(set(estimates)) > 1, call=f"estimate_pi with seeds 1, 2, 3 and n={N_PI}",
                expected="different keys give different estimates", returned=f"{estimates}",
                hint=why_the_key_changes_nothing(estimate_pi, key(1), N_PI, static=(1,), what="samples"))


@pytest.mark.exercise("estimate_pi", points=2, concept=True)
def test_estimate_pi_uses_vmap(ex, reference_in_circle):
    estimate_pi = ex.estimate_pi

    def n_ops(n):
        return count_ops(jax.make_jaxpr(lambda k: estimate_pi(k, n))(key(0)).jaxpr)

    small, large = n_ops(8), n_ops(16)
    expect.that(small == large, call="jax.make_jaxpr(lambda k: estimate_pi(k, n)) for n = 8 and n = 16",
                expected="the same program size for both n", returned=f"{small} operations for n=8, {large} for n=16",
                hint="the program grows with n: a Python loop traces in_circle once per sample; jax.vmap "
                     "traces it once for all of them.")


# -- dropout ---------------------------------------------------------------------------------------

X = np.linspace(1.0, 2.0, 24 * 40, dtype=np.float32).reshape(24, 40)
X_SHOWN = "x (24x40 float32, all entries in [1, 2])"
P_KEEP = 0.7  # one static value: one compiled dropout for every test


def dropped(fn, seed):
    return run(fn, key(seed), X, P_KEEP, call=f"dropout(jax.random.key({seed}), {X_SHOWN}, {P_KEEP})", static=(2,))


@pytest.mark.exercise("dropout", points=2)
def test_dropout_scales_kept_values(ex):
    call = f"dropout(jax.random.key(0), {X_SHOWN}, {P_KEEP})"
    got = dropped(ex.dropout, 0)
    expect.shape(got, X.shape, call=call, hint="the output has the shape of x.")
    expect.dtype(got, X.dtype, call=call, hint="the output has the dtype of x.")
    kept = np.asarray(got) != 0
    expect.that(kept.any() and not kept.all(), call=call, expected="some entries kept and some zeroed",
                returned=f"{kept.sum()} of {kept.size} kept",
                hint="draw a keep/drop decision for each entry (a Bernoulli draw with probability p_keep).")
    if kept.any() and not np.allclose(got[kept], X[kept] / P_KEEP, rtol=1e-5):
        ratio = np.asarray(got)[kept] / X[kept]
        seen = (f"the kept entries came back as x times {float(ratio[0]):.4g}" if np.allclose(ratio, ratio[0])
                else "the kept entries are not x times any one number")
        expect.close(np.where(kept, got, 0.0), np.where(kept, X / P_KEEP, 0.0), call=call + ", the kept entries",
                     rtol=1e-5, hint=f"{seen}; inverted dropout divides each kept entry by p_keep, so its "
                                     "expected value stays x.")


@pytest.mark.exercise("dropout", points=2)
def test_dropout_keep_rate(ex):
    got = dropped(ex.dropout, 1)
    kept = np.asarray(got) != 0
    call = f"dropout(jax.random.key(1), {X_SHOWN}, {P_KEEP})"
    for axis, along, each in ((0, "row", "column"), (1, "column", "row")):
        if kept.ndim == 2 and kept.any() and not kept.all() and (kept == kept.take([0], axis=axis)).all():
            raise expect.failure(call, "a keep/drop decision of its own for every entry of x",
                                 f"the same entries kept in every {along}",
                                 f"one keep decision was shared by a whole {each}: the mask was drawn with a "
                                 "shape smaller than x's and broadcast. Every entry needs its own draw.")
    rate = float(np.mean(kept))
    tol = 5 * math.sqrt(P_KEEP * (1 - P_KEEP) / X.size)  # five standard errors of the keep rate
    hint = "p_keep is the chance to KEEP an entry."
    if abs(rate - (1 - P_KEEP)) <= tol:
        hint = (f"it kept about {1 - P_KEEP:.1f} of the entries, 1 - p_keep: p_keep is the chance to KEEP an "
                "entry, not to drop it.")
    expect.that(abs(rate - P_KEEP) <= tol, call=call,
                expected=f"a fraction {P_KEEP} +- {tol:.3f} of the entries kept", returned=f"{rate:.3f} kept",
                hint=hint)


@pytest.mark.exercise("dropout", points=1)
def test_dropout_depends_on_the_key(ex):
    a, a2, b = dropped(ex.dropout, 2), dropped(ex.dropout, 2), dropped(ex.dropout, 3)
    call = f"dropout(jax.random.key(2), {X_SHOWN}, {P_KEEP}) twice, then with jax.random.key(3)"
    expect.that(np.array_equal(a, a2), call=call, expected="the same output for the same key",
                returned="two different outputs",
                hint="the same key gave two different masks: draw the mask from the key you are given, nothing else.")
    if np.array_equal(np.asarray(a) != 0, np.asarray(b) != 0):
        raise expect.failure(call, "different masks for different keys", "the same mask for both keys",
                             why_the_key_changes_nothing(ex.dropout, key(2), X, P_KEEP, static=(2,), what="mask"))
