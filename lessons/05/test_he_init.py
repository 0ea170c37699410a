"""Tests for lesson 05: He initialization.

The initializers are random, so most tests are statistical: they draw many weights and compare sample
statistics with what the distribution promises, within a few standard errors computed from the sample
size (never a guessed constant). Every key is fixed, so a run is reproducible; the tolerances are there
so that any correct implementation (another way of splitting keys, a GPU's rounding) passes too.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grader.learner import expect

# How many standard errors a statistic may stray from its promise. A correct answer lands outside
# 5 standard errors with probability below 1e-6 per check; every planted mistake is off by dozens.
Z = 5.0

SEEDS = range(4)
SEEDS_SHOWN = f"{SEEDS[0]}..{SEEDS[-1]}"
# Two shapes only, as each costs compiles. In each, fan_in is far from fan_out, one way and then the
# other, so sqrt(2 / fan_out) can't pass for sqrt(2 / fan_in), nor rows for columns.
LAYER_SHAPES = [(256, 32), (32, 128)]
# Made of the same layer shapes (nothing new to compile), with three different sizes: each layer's
# fan_in differs from its fan_out, from the other layer's fan_in and from the first size, so a std
# taken from the wrong size (fan_out, or the first layer's fan_in for every layer) shows.
NET_SIZES = [256, 32, 128]
# The fewest sizes init_network takes: two, a single layer.
ONE_LAYER_SIZES = NET_SIZES[1:]
# A std of 0.0 is a std like any other (all-zero weights), though Python counts it as false: an answer
# that tests `std` for truth instead of comparing it with None mistakes it for "no std given". (An int 0
# is the same mistake, and its weakly typed int multiply would cost two more compiles.)
ZERO_STD = 0.0
GIVEN_STD = 0.3  # a std far from He's and from sqrt(2 / fan_out) for LAYER_SHAPES

# A normal puts P = 68.27% of its draws within one standard deviation of its mean. Measured with the
# sample mean and sample std, the fraction of n draws has standard error sqrt(VAR_WITHIN_ONE / n):
# p(1 - p) for the count, minus 2 phi(1)^2 because the sample std moves with the draws (delta method).
P_WITHIN_ONE = math.erf(1 / math.sqrt(2))
PHI_1 = math.exp(-0.5) / math.sqrt(2 * math.pi)
VAR_WITHIN_ONE = P_WITHIN_ONE * (1 - P_WITHIN_ONE) - 2 * PHI_1 ** 2
P_UNIFORM = 1 / math.sqrt(3)  # a uniform with the same std puts 57.7% within one std
P_TRUNCATED = math.erf(0.8796 / math.sqrt(2)) / math.erf(2 / math.sqrt(2))  # jax's truncated normal, ~65.0%

# The stacks of the last concept check: DEPTH (for He) or SHALLOW (for the naive inits) layers of WIDTH.
DEPTH, SHALLOW, WIDTH, BATCH = 32, 8, 256, 16


# ---------------------------------------------------------------- helpers

def _layer_arrays(got, fan_in, fan_out, call):
    """The layer's w and b as float64 NumPy arrays, after checking it is {"w": (fan_in, fan_out), "b": ...}."""
    __tracebackhide__ = True
    if not (isinstance(got, dict) and set(got) == {"w", "b"}):  # (messages are built only on failure)
        raise expect.failure(call, 'a dict with exactly the keys "w" and "b"', expect.show(got),
                             'return {"w": w, "b": b}.')
    expect.shape(got["w"], (fan_in, fan_out), call=call,
                 hint="w has one row per input and one column per output: (fan_in, fan_out).")
    expect.shape(got["b"], (fan_out,), call=call, hint="b has one entry per output: shape (fan_out,).")
    return np.asarray(got["w"], np.float64), np.asarray(got["b"], np.float64)


def _std_args(std):
    """init_layer's / init_network's keyword arguments for `std`, and how they read in a message."""
    return ({}, "") if std is None else ({"std": std}, f", std={std}")


_LAYERS = {}


def _init_layer(ex, seed, fan_in, fan_out, std=None):
    """ex.init_layer(key(seed), fan_in, fan_out[, std=std]), and how the call reads in a message.
    The init_layer tests share their draws: each call is made once per run (the tests of
    reproducibility call init_layer themselves)."""
    extra, shown = _std_args(std)
    call = f"init_layer(key({seed}), {fan_in}, {fan_out}{shown})"
    cache_key = (ex.init_layer, seed, fan_in, fan_out, type(std), std)
    if cache_key not in _LAYERS:
        _LAYERS[cache_key] = ex.init_layer(jax.random.key(seed), fan_in, fan_out, **extra)
    return _LAYERS[cache_key], call


def _draw_weights(ex, fan_in, fan_out, std=None):
    """The weights of init_layer for every seed, stacked: float64, shape (len(SEEDS), fan_in, fan_out)."""
    __tracebackhide__ = True
    ws = []
    for seed in SEEDS:
        got, call = _init_layer(ex, seed, fan_in, fan_out, std)
        ws.append(_layer_arrays(got, fan_in, fan_out, call)[0])
    return np.stack(ws)


def _std_hint(got, fan_in, fan_out, want, first_fan_in=None):
    if want == 0:
        if abs(got / math.sqrt(2 / fan_in) - 1) < 0.05:
            return ("std=0 came back as He's std, as if no std had been given: 0 is a valid std, though "
                    "Python counts it as false, so a truth test (`std or ...`, `if not std`) can't tell it "
                    "from None; compare with None.")
        return "a std of 0 gives all-zero weights."
    if want != math.sqrt(2 / fan_in) and abs(got / math.sqrt(2 / fan_in) - 1) < 0.05:
        return "that is He's std, though a number was given for std: with a number, use that number."
    if fan_in != fan_out and abs(got / math.sqrt(2 / fan_out) - 1) < 0.05:
        return "that is sqrt(2 / fan_out). He init scales by the inputs a unit adds up: fan_in = w.shape[0]."
    if first_fan_in not in (None, fan_in, fan_out) and want == math.sqrt(2 / fan_in) \
            and abs(got / math.sqrt(2 / first_fan_in) - 1) < 0.05:
        return (f"that is He's std for the first layer's fan_in, sqrt(2 / {first_fan_in}): each layer takes the "
                f"std of its own fan_in, here {fan_in}.")
    if abs(got / math.sqrt(1 / fan_in) - 1) < 0.05:
        return ("that is sqrt(1 / fan_in). ReLU zeroes about half of what it gets, so He doubles the "
                "variance to make up for it.")
    if want == math.sqrt(2 / fan_in) and abs(got / (2 / fan_in) - 1) < 0.05:
        return ("that is 2 / fan_in, He's variance: the std is its square root, and jax.random.normal's "
                "draws are scaled by the std.")
    if abs(got / (want / math.sqrt(3)) - 1) < 0.05:
        return ("a uniform on [-s, s] has std s / sqrt(3), not s. Draw from jax.random.normal and multiply "
                "by the std.")
    return f"the weights' std came out {got / want:.3g} times the one asked for: scale standard normal draws by the std."


def _check_std(w, want, call, fan_in, fan_out, first_fan_in=None):
    """The draws in `w` have mean 0 and root mean square `want`, within Z standard errors. `first_fan_in`:
    the network's first size, where `w` is one of its layers."""
    __tracebackhide__ = True
    n = w.size
    rms = float(np.sqrt(np.mean(w ** 2)))
    if want == 0:
        expect.that(rms == 0, call=call, expected="all-zero weights (std 0)", returned=f"weights with std {rms:.4f}",
                    hint=_std_hint(rms, fan_in, fan_out, want))
        return
    tol = Z * want / math.sqrt(2 * n)  # the rms of n normals has standard error std / sqrt(2 n)
    expect.that(abs(rms - want) <= tol, call=call,
                expected=f"weights with std {want:.4f} ± {tol:.4f} ({n} draws)",
                returned=f"weights with std {rms:.4f}", hint=_std_hint(rms, fan_in, fan_out, want, first_fan_in))
    mean = float(np.mean(w))
    tol_mean = Z * want / math.sqrt(n)  # the mean of n draws has standard error std / sqrt(n)
    expect.that(abs(mean) <= tol_mean, call=call, expected=f"weights with mean 0 ± {tol_mean:.4f}",
                returned=f"weights with mean {mean:.4f}", hint="center the draws on 0: jax.random.normal does.")


def _dense(h, layer, relu=True, bias=True):
    """One layer in float64 NumPy. np.einsum rather than @: small products run faster without BLAS's
    threads, which stall when the machine is busy."""
    h = np.einsum("bi,io->bo", h, np.asarray(layer["w"], np.float64))
    if bias:
        h = h + np.asarray(layer["b"], np.float64)
    return np.maximum(h, 0.0) if relu else h


def _mean_squares(params, x, **how):
    """The lesson's activation scales, computed here in float64 NumPy (no overflow on exploding stacks)."""
    h = np.asarray(x, np.float64)
    out = []
    for layer in params:
        h = _dense(h, layer, **how)
        out.append(np.mean(h ** 2))
    return np.array(out)


def _correlation(a, b):
    """The sample correlation of two equally long vectors (elementwise, no BLAS)."""
    a, b = a - a.mean(), b - b.mean()
    return float(np.mean(a * b) / (a.std() * b.std()))


def _profile(ratios):
    picks = sorted({0, len(ratios) // 4, len(ratios) // 2, 3 * len(ratios) // 4, len(ratios) - 1})
    return ", ".join(f"layer {i + 1}: {ratios[i]:.3g}" for i in picks)


# ---------------------------------------------------------------- he_std

@pytest.mark.exercise("he_std", points=1)
def test_he_std(ex):
    for fan_in in (50, 784, 4096, 1, 2):  # 50 first: its wrong answers are told apart best
        want = math.sqrt(2 / fan_in)
        got = ex.he_std(fan_in)
        hint = "the He standard deviation is the square root of the variance 2 / fan_in."
        value = float(np.asarray(got)) if np.ndim(got) == 0 and np.isrealobj(got) else None
        if value is not None:
            if np.isclose(value, math.sqrt(1 / fan_in)):
                hint = "that is sqrt(1 / fan_in); He init has a 2 on top, for the half of the units ReLU silences."
            elif np.isclose(value, 2 / fan_in) and fan_in > 2:
                hint = "that is 2 / fan_in, He's variance; the standard deviation is its square root."
            elif np.isclose(value, 2 / math.sqrt(fan_in)) and fan_in > 1:
                hint = "that is 2 / sqrt(fan_in): the square root must cover the 2 as well as fan_in."
        expect.close(got, want, call=f"he_std({fan_in})", rtol=1e-6, hint=hint)


# ---------------------------------------------------------------- init_layer

@pytest.mark.exercise("init_layer", points=1)
def test_init_layer_returns_w_and_b(ex):
    for fan_in, fan_out in LAYER_SHAPES:
        for std in (None, GIVEN_STD):
            got, call = _init_layer(ex, 0, fan_in, fan_out, std)
            _layer_arrays(got, fan_in, fan_out, call)
            for name in ("w", "b"):
                expect.dtype(got[name], jnp.float32, call=f'{call}["{name}"]',
                             hint="make it a float32 JAX array: jax.random.normal and jnp.zeros give float32 "
                                  "(NumPy's np.zeros gives float64).")


@pytest.mark.exercise("init_layer", points=1)
def test_init_layer_biases_are_zero(ex):
    for fan_in, fan_out in LAYER_SHAPES:
        for std in (None, GIVEN_STD):
            got, call = _init_layer(ex, 1, fan_in, fan_out, std)
            _, b = _layer_arrays(got, fan_in, fan_out, call)
            if not np.all(b == 0):
                raise expect.failure(call, f"b: zeros of shape ({fan_out},)", f"b: {expect.show(got['b'])}",
                                     "only the weights are random; start the biases at jnp.zeros((fan_out,)).")


@pytest.mark.exercise("init_layer", points=2)
def test_init_layer_std(ex):
    for fan_in, fan_out, std in [*((i, o, None) for i, o in LAYER_SHAPES), (*LAYER_SHAPES[0], GIVEN_STD)]:
        w = _draw_weights(ex, fan_in, fan_out, std)
        want = math.sqrt(2 / fan_in) if std is None else std
        call = f"init_layer(key(k), {fan_in}, {fan_out}{_std_args(std)[1]}) for k = {SEEDS_SHOWN}"
        _check_std(w, want, call, fan_in, fan_out)
    fan_in, fan_out = LAYER_SHAPES[0]
    got, call = _init_layer(ex, 0, fan_in, fan_out, ZERO_STD)
    _check_std(_layer_arrays(got, fan_in, fan_out, call)[0], 0, call, fan_in, fan_out)


@pytest.mark.exercise("init_layer", points=2)
def test_init_layer_draws_from_a_normal(ex):
    for fan_in, fan_out in LAYER_SHAPES:
        w = _draw_weights(ex, fan_in, fan_out).ravel()
        centered = w - w.mean()
        frac = float(np.mean(np.abs(centered) < centered.std()))
        tol = Z * math.sqrt(VAR_WITHIN_ONE / w.size)
        if abs(frac - P_UNIFORM) < 0.01:
            hint = "that is what a uniform distribution gives; draw with jax.random.normal."
        elif abs(frac - P_TRUNCATED) < 0.01:
            hint = ("that is a truncated normal (what jax.nn.initializers.he_normal draws); this lesson asks "
                    "for the plain normal, scaled by the std.")
        else:
            hint = "that is not a normal distribution's share: draw from a plain normal and scale it by the std."
        expect.that(abs(frac - P_WITHIN_ONE) <= tol,
                    call=f"init_layer(key(k), {fan_in}, {fan_out}) for k = {SEEDS_SHOWN}",
                    expected=f"{P_WITHIN_ONE:.2%} ± {tol:.2%} of the weights within one std of their mean, "
                             f"as for a normal distribution",
                    returned=f"{frac:.2%} of them within one std", hint=hint)


@pytest.mark.exercise("init_layer", points=1)
def test_init_layer_follows_its_key(ex):
    fan_in, fan_out = LAYER_SHAPES[0]

    def weights(seed):
        got = ex.init_layer(jax.random.key(seed), fan_in, fan_out)
        return _layer_arrays(got, fan_in, fan_out, f"init_layer(key({seed}), {fan_in}, {fan_out})")[0]

    first, again = weights(3), weights(3)
    expect.that(np.array_equal(first, again), call=f"init_layer(key(3), {fan_in}, {fan_out}) twice",
                expected="the same weights both times", returned="different weights",
                hint="the same key gave different weights, so the draws depend on something besides the key "
                     "(a global random state such as NumPy's np.random, a seed that changes): draw only from "
                     "the key argument.")
    other = weights(4)
    r = _correlation(first.ravel(), other.ravel())
    tol = Z / math.sqrt(first.size)  # the correlation of n independent pairs has standard error 1 / sqrt(n)
    expect.that(abs(r) <= tol, call=f"init_layer(key(3), {fan_in}, {fan_out}) and init_layer(key(4), ...)",
                expected=f"unrelated weights (correlation 0 ± {tol:.3f})", returned=f"correlation {r:.3f}",
                hint=("two different keys gave " + ("identical" if r > 0.9999 else "correlated") + " weights: "
                      "the draws don't follow the key argument (a key made inside the function, such as "
                      "jax.random.key(0), is the same on every call)."))


# ---------------------------------------------------------------- init_network

def _network(got, sizes, call):
    """init_network's result as a list of float64 (w, b) pairs, after checking its structure."""
    __tracebackhide__ = True
    if not (isinstance(got, list) and len(got) == len(sizes) - 1):
        raise expect.failure(call, f"a list of {len(sizes) - 1} layer dicts, one per pair of neighbouring sizes",
                             f"a list of {len(got)}" if isinstance(got, list) else expect.show(got),
                             "one layer between each pair of sizes: zip(sizes[:-1], sizes[1:]).")
    return [_layer_arrays(layer, fan_in, fan_out, f"{call}[{i}]")
            for i, (layer, fan_in, fan_out) in enumerate(zip(got, sizes[:-1], sizes[1:]))]


@pytest.mark.exercise("init_network", points=1)
def test_init_network_shapes(ex):
    for sizes in (NET_SIZES, ONE_LAYER_SIZES):  # the docstring's "at least two" sizes: two is one layer
        call = f"init_network(key(10), {sizes})"
        got = ex.init_network(jax.random.key(10), sizes)
        layers = _network(got, sizes, call)
        for i, (layer, (_, b)) in enumerate(zip(got, layers)):
            for name in ("w", "b"):
                expect.dtype(layer[name], jnp.float32, call=f'{call}[{i}]["{name}"]',
                             hint="build each layer with init_layer, which gives float32.")
            if not np.all(b == 0):
                raise expect.failure(f"{call}[{i}]", f"b: zeros of shape {b.shape}", f"b: {expect.show(layer['b'])}",
                                     "every layer's biases start at zero.")


@pytest.mark.exercise("init_network", points=1)
def test_init_network_is_reproducible(ex):
    sizes = NET_SIZES
    call = f"init_network(key(11), {sizes})"
    first = _network(ex.init_network(jax.random.key(11), sizes), sizes, call)
    again = _network(ex.init_network(jax.random.key(11), sizes), sizes, call)
    expect.that(all(np.array_equal(a, b) for la, lb in zip(first, again) for a, b in zip(la, lb)),
                call=f"{call} twice", expected="the same network both times", returned="different networks",
                hint="the same key gave two different networks, so the draws depend on something besides the "
                     "key (a global random state, a seed that changes): derive every layer's key from the key "
                     "argument, and from nothing else.")
    other = _network(ex.init_network(jax.random.key(12), sizes), sizes, f"init_network(key(12), {sizes})")
    expect.that(not np.array_equal(other[0][0], first[0][0]), call=f"{call} and init_network(key(12), {sizes})",
                expected="different networks for different keys", returned="the same first layer",
                hint="two different keys gave the same first layer: the layers' keys don't come from the key "
                     "argument (a key made inside the function is the same on every call).")


@pytest.mark.exercise("init_network", points=2)
def test_init_network_gives_each_layer_its_own_key(ex):
    """Concept check: under jax.debug_key_reuse no key is used twice, and layers of equal shape differ."""
    sizes = [WIDTH] * 4
    call = f"init_network(key(13), {sizes})"
    key = jax.random.key(13)  # made outside the check, so its set-up compiles are shared with the other tests
    try:
        with jax.debug_key_reuse(True):
            got = ex.init_network(key, sizes)
    except jax.errors.KeyReuseError as err:
        raise expect.failure(call, "every key used once (checked with jax.debug_key_reuse(True))",
                             f"KeyReuseError: {str(err).splitlines()[0]}",
                             "a key was consumed twice. Once a key has been split (or drawn from) it is spent: "
                             "use only the new keys the split gave, a different one for each layer.") from None
    ws = [w.ravel() for w, _ in _network(got, sizes, call)]
    tol = Z / math.sqrt(ws[0].size)  # the correlation of n independent pairs has standard error 1 / sqrt(n)
    for i in range(len(ws)):
        for j in range(i + 1, len(ws)):
            r = _correlation(ws[i], ws[j])
            expect.that(abs(r) <= tol, call=call,
                        expected=f"layers {i} and {j} unrelated (correlation 0 ± {tol:.3f})",
                        returned=f"correlation {r:.3f}" + (" (identical weights)" if r > 0.9999 else ""),
                        hint=f"layers {i} and {j} were drawn from the same key: a key gives the same numbers "
                             "every time it is used, so each layer needs a key of its own, split from the key "
                             "argument.")


@pytest.mark.exercise("init_network", points=1)
def test_init_network_layer_stds(ex):
    sizes = NET_SIZES
    for std in (None, 0.05, ZERO_STD):
        extra, shown = _std_args(std)
        call = f"init_network(key(14), {sizes}{shown})"
        layers = _network(ex.init_network(jax.random.key(14), sizes, **extra), sizes, call)
        for i, ((w, _), fan_in, fan_out) in enumerate(zip(layers, sizes[:-1], sizes[1:])):
            want = math.sqrt(2 / fan_in) if std is None else std
            _check_std(w, want, f"{call}[{i}] (fan_in {fan_in})", fan_in, fan_out, first_fan_in=sizes[0])


def _per_layer(ratios):
    """The geometric mean factor by which a layer multiplied the mean square."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return float(np.asarray(ratios[-1], np.float64) ** (1 / len(ratios)))


def _signal_hint(ratios, depth):
    factor = _per_layer(ratios)
    seen = f"the mean square was multiplied by about {factor:.3g} per layer, {depth} times over"
    if abs(factor - 0.5) < 0.1:
        return (seen + ": that is what weights of variance 1 / fan_in do, half of what ReLU needs to keep "
                "it steady (He doubles the variance).")
    if factor > 1:
        return seen + ": the weights are too big for their fan_in; He's std makes the factor 1."
    return seen + ": the weights are too small for their fan_in; He's std makes the factor 1."


def _naive_hint(ratios, std):
    factor = _per_layer(ratios)
    return (f"with std={std} the mean square was multiplied by about {factor:.3g} per layer; weights of std "
            f"{std} multiply it by {WIDTH} * {std}**2 / 2 = {WIDTH * std ** 2 / 2:.3g}. With a number for std, "
            "every layer's weights must have that std (not He's).")


@pytest.mark.exercise("init_network", points=3)
def test_he_keeps_the_signal_steady(ex):
    """Concept check: through 32 ReLU layers, He init keeps the mean square of the activations steady;
    std=1.0 blows it up and std=0.01 makes it vanish within a few layers."""
    x = np.random.default_rng(0).standard_normal((BATCH, WIDTH))
    x_ms = float(np.mean(x ** 2))

    def run(std, depth):
        sizes = [WIDTH] * (depth + 1)
        extra, shown = _std_args(std)
        call = f"init_network(key(15), [{WIDTH}] * {depth + 1}{shown}), then {depth} ReLU layers on a batch"
        layers = _network(ex.init_network(jax.random.key(15), sizes, **extra), sizes, call)
        return call, _mean_squares([{"w": w, "b": b} for w, b in layers], x) / x_ms

    # With He init each layer multiplies the mean square by a random factor of mean ~1 and relative
    # variance ~5 / WIDTH (for z normal, E[relu(z)^4] / E[relu(z)^2]^2 - 1 = 5; that is for one input, and
    # a batch shares the weights, so averaging over it barely helps), so after DEPTH layers its
    # log is a random walk with drift -5 DEPTH / (2 WIDTH) and spread sqrt(5 DEPTH / WIDTH).
    spread = math.sqrt(5 * DEPTH / WIDTH)
    lo, hi = math.exp(-5 * DEPTH / (2 * WIDTH) - Z * spread), math.exp(Z * spread)
    call, he = run(None, DEPTH)
    expect.that(bool(np.all((he >= lo) & (he <= hi))), call=call,
                expected=f"mean square of the activations within [{lo:.3g}, {hi:.3g}] x the input's at every layer",
                returned=f"{_profile(he)} (x the input's)",
                hint=_signal_hint(he, DEPTH))
    # The naive inits need no deep stack to fail: per layer, std=1.0 multiplies the mean square by
    # WIDTH / 2 = 128 and std=0.01 by 0.0001 * WIDTH / 2 = 0.0128, so SHALLOW layers make 7e16 and 1e-15.
    call, big = run(1.0, SHALLOW)
    expect.that(bool(big[-1] > 1e6), call=call,
                expected="activations that explode: mean square > 1e6 x the input's by the last layer",
                returned=f"{_profile(big)} (x the input's)",
                hint=_naive_hint(big, 1.0))
    call, small = run(0.01, SHALLOW)
    expect.that(bool(small[-1] < 1e-6), call=call,
                expected="activations that vanish: mean square < 1e-6 x the input's by the last layer",
                returned=f"{_profile(small)} (x the input's)",
                hint=_naive_hint(small, 0.01))


# ---------------------------------------------------------------- activation_scales

def _statistics(params, x, stat, last_relu=True, **how):
    """A per-layer statistic of the activations in float64 NumPy, for recognizing wrong answers."""
    h = np.asarray(x, np.float64)
    out = []
    for k, layer in enumerate(params):
        h = _dense(h, layer, relu=how.get("relu", True) and (last_relu or k < len(params) - 1),
                   bias=how.get("bias", True))
        out.append(stat(h))
    return np.array(out)


def _activation_hint(got, params, x):
    """A hint that names the mistake, when the result matches a common wrong computation."""
    shape = np.shape(got) if hasattr(got, "shape") else None
    if shape == (len(params) + 1,):
        return "one entry too many: leave the input out, one entry per layer, measured after that layer's ReLU."
    if shape != (len(params),):
        return f"one entry per layer: an array of shape ({len(params)},)."
    got = np.asarray(got, np.float64)
    mean_square = lambda h: np.mean(h ** 2)  # noqa: E731
    known = [
        (_statistics(params, x, mean_square, bias=False), "the biases were left out: add each layer's b before the ReLU."),
        (_statistics(params, x, mean_square, relu=False), "no ReLU was applied: every layer, the last one too, ends in a ReLU."),
        (_statistics(params, x, mean_square, last_relu=False),
         "the last layer's ReLU is missing: here every layer ends in a ReLU, the last one too."),
        (_statistics(params, x, np.std), "that is the standard deviation of the activations, not their mean square "
                                        "(ReLU outputs have a mean above 0, so the two differ)."),
        (_statistics(params, x, np.mean), "that is the mean of the activations; the entry is the mean of their squares."),
        (np.sqrt(_statistics(params, x, mean_square)), "that is the root of the mean square; leave out the square root."),
    ]
    for values, hint in known:
        if np.allclose(got, values, rtol=1e-4):
            return hint
    return ("each entry is the mean of h ** 2 over the batch and the units, just after layer k's "
            "relu(h @ w + b), as the docstring says.")


@pytest.mark.exercise("activation_scales", points=2)
def test_activation_scales(ex):
    rng = np.random.default_rng(5)
    sizes = [16, 16, 16, 16]  # one layer shape, so the learner's forward pass compiles each op once

    def normal(shape, scale=1.0):
        return jax.device_put((scale * rng.standard_normal(shape)).astype(np.float32))

    params = [{"w": normal((a, b), 0.4), "b": normal(b, 0.3)} for a, b in zip(sizes[:-1], sizes[1:])]
    x = normal((10, sizes[0]))
    want = _mean_squares(params, x).astype(np.float32)
    got = ex.activation_scales(params, x)
    expect.close(got, want, call=f"activation_scales(params of a {sizes} stack with non-zero biases, "
                                 f"x of shape {x.shape})",
                 rtol=1e-4, atol=1e-6, hint=_activation_hint(got, params, x))
