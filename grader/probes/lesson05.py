"""Lesson 05 probes: `he_std` on random fan-ins and `activation_scales` on a random stack with non-zero
biases, both compared with the reference; the initializers on fresh seeds, shapes and stds, checked by
the properties the public tests check, so that any correct way of drawing passes.

`init_layer`: {"w", "b"} of the right shapes, float32; zero biases; weights with mean 0 and root mean
square equal to He's std (or the std given) within five standard errors; all-zero weights for std=0.0
(a std Python counts as false); a normal's 68.27% within one std; the same layer for the same key;
uncorrelated weights for another key.
`init_network`: a list of such layers (fan_in far from fan_out, so fan_out's std shows) with each
layer's std right, for He, for a given std and for std=0.0, and for two sizes (one layer), as the public
tests try; the same network for the same key, another
first layer for another key; no two layers of one network correlated (every layer has as many weights).
"""
import math

import jax
import jax.numpy as jnp
import numpy as np

from grader.probes import Probes, concerns, concerns_every_test, merge_findings, reworded

PROBES = Probes("05")
Z = 5.0
P_WITHIN_ONE = math.erf(1 / math.sqrt(2))
PHI_1 = math.exp(-0.5) / math.sqrt(2 * math.pi)
VAR_WITHIN_ONE = P_WITHIN_ONE * (1 - P_WITHIN_ONE) - 2 * PHI_1 ** 2  # with the sample mean and std
CALLS = ("first", "again", "other", "given", "zero")


def _seeds(rng, n):
    return [int(s) for s in rng.choice(np.arange(1_000, 1_000_000), n, replace=False)]


def _given_std(rng):
    """A std far from He's for every fan_in the probes use (He's lies in [0.06, 0.36])."""
    return float(rng.uniform(0.01, 0.03) if rng.random() < 0.5 else rng.uniform(0.6, 1.5))


def _plain(layer):
    return dict(layer) if isinstance(layer, dict) else layer


def _std_args(std):
    return {} if std is None else {"std": std}


def _correlation(a, b):
    a, b = a - a.mean(), b - b.mean()
    return float(np.mean(a * b) / (a.std() * b.std()))


def _uncorrelated(a, b):
    return abs(_correlation(a.ravel(), b.ravel())) <= Z / math.sqrt(a.size)


LAYER_TESTS = {"dtype": ("test_init_layer_returns_w_and_b",), "biases": ("test_init_layer_biases_are_zero",),
               "std": ("test_init_layer_std",)}
NETWORK_TESTS = {"dtype": ("test_init_network_shapes",), "biases": ("test_init_network_shapes",),
                 "shape": ("test_init_network_shapes", "test_init_network_layer_stds"),
                 "std": ("test_init_network_layer_stds",)}
# a stack of equal widths, as the signal test builds: there fan-in is fan-out, and only He's std keeps
# the activations' scale
SQUARE_TESTS = {"shape": ("test_he_keeps_the_signal_steady",), "std": ("test_he_keeps_the_signal_steady",)}
# std=0.0 only test_init_network_layer_stds tries
ZERO_NETWORK_TESTS = dict(NETWORK_TESTS, std=("test_init_network_layer_stds",))


def _layer_findings(layer, fan_in, fan_out, std, tests, strict=True) -> list[str]:
    """What is wrong with `layer` as an init_layer(key, fan_in, fan_out) draw with this std, each
    finding naming the tests (from `tests`) that check it; a wrong structure concerns them all.
    `strict` adds the float32 dtypes and the zero biases."""
    if not isinstance(layer, dict) or set(layer) != {"w", "b"}:
        return ['not a dict with exactly the keys "w" and "b"']
    w, b = np.asarray(layer["w"]), np.asarray(layer["b"])
    if w.shape != (fan_in, fan_out) or b.shape != (fan_out,):
        shape = f"w of shape {w.shape} and b of shape {b.shape}, not (fan_in, fan_out) and (fan_out,)"
        return [concerns(shape, *tests["shape"]) if "shape" in tests else shape]
    found = []
    if strict and (w.dtype != np.float32 or b.dtype != np.float32):
        found.append(concerns(f"w of dtype {w.dtype} and b of dtype {b.dtype}, not float32", *tests["dtype"]))
    if strict and not np.all(b == 0):
        found.append(concerns("the biases are not all zero", *tests["biases"]))
    w = w.astype(np.float64)
    if not np.all(np.isfinite(w)):
        return found + [concerns("the weights hold NaN or infinity", *tests["std"])]
    rms, mean = float(np.sqrt(np.mean(w ** 2))), float(np.mean(w))
    if abs(rms - std) > Z * std / math.sqrt(2 * w.size):
        found.append(concerns(f"the weights' root mean square {rms:.4g} is too far from the std asked for", *tests["std"]))
    elif abs(mean) > Z * std / math.sqrt(w.size):
        found.append(concerns(f"the weights' mean {mean:.4g} is too far from 0", *tests["std"]))
    return found


def _normal_shaped(draws):
    """None if the pooled standardized draws put a normal's share within one std of their mean."""
    x = np.concatenate([d.ravel() for d in draws])
    x = x - x.mean()
    frac = float(np.mean(np.abs(x) < x.std()))
    if abs(frac - P_WITHIN_ONE) > Z * math.sqrt(VAR_WITHIN_ONE / x.size):
        return f"{frac:.2%} of the weights lie within one std of their mean; a normal distribution puts 68.27% there"
    return None


# -- he_std ------------------------------------------------------------------------------------------

def _fans(rng):
    return {"fans": [int(f) for f in rng.integers(1, 10_000, size=5)]}


@PROBES("he_std", make=_fans)
def he_std(ex, fans):
    return [ex.he_std(fan_in) for fan_in in fans]


# -- init_layer --------------------------------------------------------------------------------------

def _far_apart(rng, small=(24, 49), large=(256, 513)):
    """(fan_in, fan_out), one small and one large, in a random order."""
    pair = [int(rng.integers(*small)), int(rng.integers(*large))]
    return tuple(pair if rng.random() < 0.5 else pair[::-1])


def _layer_inputs(rng):
    fan_in, fan_out = _far_apart(rng)
    return {"fan_in": fan_in, "fan_out": fan_out, "seeds": _seeds(rng, 3), "std": _given_std(rng)}


def _check_layer(got, want, inputs):
    if not isinstance(got, dict) or set(got) != set(CALLS):
        return "the output has the wrong structure"
    fan_in, fan_out = inputs["fan_in"], inputs["fan_out"]
    he = math.sqrt(2 / fan_in)
    found = []
    for name in CALLS:
        std = {"given": inputs["std"], "zero": 0.0}.get(name, he)
        # std=0.0 is checked by the public tests for its weights only, not for dtypes or biases
        found += [reworded(f, f"init_layer call {name!r}: {f}")
                  for f in _layer_findings(got[name], fan_in, fan_out, std, LAYER_TESTS, strict=name != "zero")]
    if any(map(concerns_every_test, found)):
        return merge_findings(found)
    first, again, other = (np.asarray(got[name]["w"], np.float64) for name in CALLS[:3])
    key_test = "test_init_layer_follows_its_key"
    if not np.array_equal(first, again):
        found.append(concerns("the same key gave two different layers", key_test))
    elif not _uncorrelated(first, other):
        found.append(concerns("two different keys gave correlated weights", key_test))
    shape = _normal_shaped([first, other])
    if shape:
        found.append(concerns(shape, "test_init_layer_draws_from_a_normal"))
    return merge_findings(found)


@PROBES("init_layer", make=_layer_inputs, check=_check_layer)
def init_layer(ex, fan_in, fan_out, seeds, std):
    first, other, given = (jax.random.key(s) for s in seeds)
    return {"first": _plain(ex.init_layer(first, fan_in, fan_out)),
            "again": _plain(ex.init_layer(jax.random.key(seeds[0]), fan_in, fan_out)),
            "other": _plain(ex.init_layer(other, fan_in, fan_out)),
            "given": _plain(ex.init_layer(given, fan_in, fan_out, std=std)),
            "zero": _plain(ex.init_layer(jax.random.key(seeds[2] + 1), fan_in, fan_out, std=0.0))}


# -- init_network ------------------------------------------------------------------------------------

SQUARE_DEPTH = 3


def _network_inputs(rng):
    a, b = _far_apart(rng, small=(16, 33), large=(128, 257))
    return {"sizes": [a, b, a, b], "seeds": _seeds(rng, 3), "std": _given_std(rng), "square": int(rng.integers(96, 193))}


def _network_findings(net, is_list, sizes, std, strict, tests=NETWORK_TESTS):
    if not is_list or not isinstance(net, (list, tuple)) or len(net) != len(sizes) - 1:
        return ["not a list of len(sizes) - 1 layer dicts"]
    found = []
    for i, (layer, fan_in, fan_out) in enumerate(zip(net, sizes[:-1], sizes[1:])):
        layer_std = math.sqrt(2 / fan_in) if std is None else std
        found += [reworded(f, f"layer {i}: {f}")
                  for f in _layer_findings(layer, fan_in, fan_out, layer_std, tests, strict)]
    return found


def _check_network(got, want, inputs):
    if not isinstance(got, dict) or set(got) != {"nets", "lists", "square", "one_layer"} \
            or len(got["nets"]) != len(CALLS):
        return "the output has the wrong structure"
    sizes = inputs["sizes"]
    found = []
    for name, net, is_list in zip(CALLS, got["nets"], got["lists"]):
        std = {"given": inputs["std"], "zero": 0.0}.get(name)
        found += [reworded(f, f"init_network call {name!r}, {f}")
                  for f in _network_findings(net, is_list, sizes, std, strict=std is None,
                                             tests=ZERO_NETWORK_TESTS if name == "zero" else NETWORK_TESTS)]
    net, is_list = got["one_layer"]
    found += [reworded(f, f"init_network with two sizes {sizes[1:3]}: {f}")
              for f in _network_findings(net, is_list, sizes[1:3], None, strict=True)]
    width = inputs["square"]
    found += [reworded(f, f"init_network on {len(got['square'])} layers of width {width}: {f}")
              for f in _network_findings(got["square"], True, [width] * (SQUARE_DEPTH + 1), None, strict=False,
                                         tests=SQUARE_TESTS)]
    if any(map(concerns_every_test, found)):
        return merge_findings(found)
    first, again, other = ([np.asarray(layer["w"], np.float64) for layer in net] for net in got["nets"][:3])
    if len({a.size for a in first + again + other}) != 1:
        return merge_findings(found)  # weights of other sizes than [a, b, a, b] asks: charged as shapes above
    if not all(np.array_equal(a, b) for a, b in zip(first, again)):
        found.append(concerns("the same key gave two different networks", "test_init_network_is_reproducible"))
    elif np.array_equal(first[0], other[0]):
        found.append(concerns("two different keys gave the same first layer", "test_init_network_is_reproducible"))
    correlated = [(i, j) for i in range(len(first)) for j in range(i + 1, len(first))
                  if not _uncorrelated(first[i], first[j])]
    if correlated:
        i, j = correlated[0]
        found.append(concerns(f"layers {i} and {j} of one network have correlated weights",
                              "test_init_network_gives_each_layer_its_own_key"))
    return merge_findings(found)


@PROBES("init_network", make=_network_inputs, check=_check_network)
def init_network(ex, sizes, seeds, std, square):
    first, other, given = seeds
    nets = [ex.init_network(jax.random.key(first), list(sizes)),
            ex.init_network(jax.random.key(first), list(sizes)),
            ex.init_network(jax.random.key(other), list(sizes)),
            ex.init_network(jax.random.key(given), list(sizes), std=std),
            ex.init_network(jax.random.key(given + 1), list(sizes), std=0.0)]
    lists = [type(net) is list for net in nets]
    stack = ex.init_network(jax.random.key(first + 1), [square] * (SQUARE_DEPTH + 1))
    one = ex.init_network(jax.random.key(first + 2), list(sizes[1:3]))  # the fewest sizes: two, one layer
    return {"nets": [[_plain(layer) for layer in net] if isinstance(net, list) else net for net in nets],
            "lists": lists, "square": [_plain(layer) for layer in stack] if isinstance(stack, (list, tuple)) else stack,
            "one_layer": [[_plain(layer) for layer in one] if isinstance(one, list) else one, type(one) is list]}


# -- activation_scales -------------------------------------------------------------------------------

def _stack_inputs(rng):
    sizes = [int(s) for s in rng.integers(6, 20, size=int(rng.integers(3, 6)))]
    params = [{"w": (rng.uniform(0.8, 1.3) * math.sqrt(2 / m) * rng.normal(size=(m, n))).astype(np.float32),
               "b": (0.3 * rng.normal(size=n)).astype(np.float32)} for m, n in zip(sizes[:-1], sizes[1:])]
    return {"params": params, "x": rng.normal(size=(int(rng.integers(4, 12)), sizes[0])).astype(np.float32)}


@PROBES("activation_scales", make=_stack_inputs, rtol=1e-4, atol=1e-6)
def activation_scales(ex, params, x):
    params = [{name: jnp.asarray(v) for name, v in layer.items()} for layer in params]
    return ex.activation_scales(params, jnp.asarray(x))
