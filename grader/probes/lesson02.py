"""Lesson 02 probes: every key function on fresh seeds and sizes, jitted as the public tests run it.

`make_keys`, `init_layers`, `noise_for_ids` (one batch and a shuffle of it), `one_normal_per_key`,
`in_circle` (vmapped over split keys) and `estimate_pi` follow a scheme the lesson fixes, so they are
compared with the reference. `estimate_pi` runs on the documented `in_circle` in place of the student's,
as in the public tests, so a mistake in `in_circle` is charged to `in_circle` alone. Dropout's mask may come from any correct draw, so its check tests
properties instead: shape and dtype, kept entries equal to x / p_keep, a keep rate within five standard
errors of p_keep (for a high and a low p_keep), the same output for the same key, another mask for
another key.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np

from grader.probes import Probes, compare, concerns, concerns_every_test, merge_findings, reworded

PROBES = Probes("02")
Z = 5.0


def _seed(rng):
    return int(rng.integers(1_000, 2**31 - 1))


def _seeds(rng, n):
    return [int(s) for s in rng.choice(np.arange(1_000, 1_000_000), n, replace=False)]


def _key(seed):
    return jax.random.key(seed)


def _is_typed(decoded) -> bool:
    return isinstance(decoded, tuple) and len(decoded) == 3 and decoded[0] == "key"


def _check_keys(got, want, inputs):
    """The reference's keys; the right bits as a legacy raw uint32 array are the typed-keys mistake only,
    and typed keys with other bits (another way of deriving them) the value test's only."""
    reason = compare(got, want)
    if not reason or not isinstance(got, (list, tuple)) or len(got) != len(want):
        return reason
    if all(not _is_typed(g) and np.array_equal(np.asarray(g), w[2]) for g, w in zip(got, want)):
        return concerns("raw uint32 key data, not a typed key array", "test_make_keys_gives_typed_keys")
    if all(_is_typed(g) and g[1] == w[1] and np.shape(g[2]) == np.shape(w[2]) for g, w in zip(got, want)):
        return concerns(reason, "test_make_keys")
    return reason


@PROBES("make_keys", make=lambda rng: {"seeds": _seeds(rng, 2), "n": int(rng.integers(3, 10))}, check=_check_keys)
def make_keys(ex, seeds, n):
    f = jax.jit(ex.make_keys, static_argnums=1)
    return [f(seed, n) for seed in seeds]


def _layer_sizes(rng):
    sizes = tuple(int(s) for s in rng.integers(2, 7, size=int(rng.integers(4, 6))))
    return {"seed": _seed(rng), "sizes": sizes}


def _check_layers(got, want, inputs):
    """The reference's weights. Other weights of the right shapes, each layer its own (no two equal),
    miss only the value test: the own-key test asks that no layer repeats another."""
    reason = compare(got, want)
    if not reason or not isinstance(got, (list, tuple)) or len(got) != len(want):
        return reason
    arrays = [np.asarray(g, np.float64) for g in got]
    if [a.shape for a in arrays] != [np.shape(w) for w in want]:
        return reason
    repeats = any(a.shape == b.shape and np.allclose(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:])
    return reason if repeats else concerns(reason, "test_init_layers")


@PROBES("init_layers", make=_layer_sizes, check=_check_layers)
def init_layers(ex, seed, sizes):
    layers = jax.jit(ex.init_layers, static_argnums=1)(_key(seed), tuple(sizes))
    return list(layers) if isinstance(layers, tuple) else layers  # the tests take a tuple too


def _ids(rng):
    ids = rng.choice(5_000, int(rng.integers(5, 10)), replace=False).astype(np.int32)
    return {"seed": _seed(rng), "ids": ids, "order": rng.permutation(len(ids))}


def _check_noise(got, want, inputs):
    """The batch's values concern the value test; a shuffled batch that doesn't carry each id's number
    along concerns the follows-the-id test (the program-size test is a concept check, not probed)."""
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        return "the output has the wrong structure"
    found = []
    reason = compare(got[0], want[0])
    if reason:
        found.append(concerns(f"the batch: {reason}", "test_noise_for_ids"))
    first, shuffled = np.asarray(got[0]), np.asarray(got[1])
    if first.shape != shuffled.shape or not np.allclose(shuffled, first[inputs["order"]], rtol=1e-5, atol=1e-6):
        found.append(concerns("a shuffled batch does not carry each id's number along",
                              "test_noise_for_ids_follows_the_id"))
    return merge_findings(found)


@PROBES("noise_for_ids", make=_ids, check=_check_noise)
def noise_for_ids(ex, seed, ids, order):
    f = jax.jit(ex.noise_for_ids)
    return f(_key(seed), ids), f(_key(seed), ids[order])


@PROBES("one_normal_per_key", make=lambda rng: {"seed": _seed(rng), "n": int(rng.integers(3, 13))})
def one_normal_per_key(ex, seed, n):
    return jax.jit(ex.one_normal_per_key, static_argnums=1)(_key(seed), n)


@PROBES("in_circle", make=lambda rng: {"seed": _seed(rng), "m": int(rng.integers(40, 80))})
def in_circle(ex, seed, m):
    hits = jax.jit(lambda k: jax.vmap(ex.in_circle)(jax.random.split(k, m)))(_key(seed))
    return hits, str(hits.dtype)


def _in_circle_as_documented(key):
    x, y = jax.random.uniform(key, (2,))
    return (x**2 + y**2 <= 1.0).astype(jnp.float32)


def _check_pi(got, want, inputs):
    """The reference's estimates. Other estimates, each within five standard errors of pi and different
    for the two keys, miss only the value test (the accuracy test asks no more of them)."""
    reason = compare(got, want)
    if not reason:
        return None
    try:
        estimates = [float(np.asarray(g)) for g in got]
    except (TypeError, ValueError):
        return reason
    n, p = inputs["n"], math.pi / 4
    tol = 5 * 4 * math.sqrt(p * (1 - p) / n)
    accurate = len(estimates) == 2 and all(abs(e - math.pi) <= tol for e in estimates) and estimates[0] != estimates[1]
    return concerns(reason, "test_estimate_pi") if accurate else concerns(
        reason, "test_estimate_pi", "test_estimate_pi_is_accurate")


@PROBES("estimate_pi", make=lambda rng: {"seeds": _seeds(rng, 2), "n": int(rng.integers(120, 260))},
        check=_check_pi)
def estimate_pi(ex, seeds, n):
    """Run on the documented in_circle, as the public tests do: a mistake in in_circle is in_circle's."""
    module = getattr(ex, "_module", ex)
    old = module.__dict__.get("in_circle")
    module.in_circle = _in_circle_as_documented
    try:
        f = jax.jit(ex.estimate_pi, static_argnums=1)
        return [f(_key(seed), n) for seed in seeds]
    finally:
        if old is None:
            del module.in_circle
        else:
            module.in_circle = old


# -- dropout -----------------------------------------------------------------------------------------

DROPOUT_CALLS = ("first", "again", "other", "low")


def _dropout_inputs(rng):
    shape = (int(rng.integers(40, 65)), 64)
    x = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)
    return {"x": x.astype(np.float32), "seeds": _seeds(rng, 3),
            "p_high": float(rng.uniform(0.6, 0.9)), "p_low": float(rng.uniform(0.15, 0.4))}


SCALES, RATE, KEY = "test_dropout_scales_kept_values", "test_dropout_keep_rate", "test_dropout_depends_on_the_key"


def _check_dropout(got, want, inputs):
    if not isinstance(got, dict) or set(got) != set(DROPOUT_CALLS):
        return "the output has the wrong structure"
    x = np.asarray(inputs["x"], np.float64)
    p_of = {"first": inputs["p_high"], "again": inputs["p_high"], "other": inputs["p_high"], "low": inputs["p_low"]}
    found = []
    for name in DROPOUT_CALLS:
        found += [reworded(f, f"dropout call {name!r}: {f}")
                  for f in _one_dropout(np.asarray(got[name]), want[name], x, p_of[name])]
    if any(map(concerns_every_test, found)):
        return merge_findings(found)
    if not np.array_equal(got["first"], got["again"]):
        found.append(concerns("the same key gave two different outputs", KEY))
    elif np.array_equal(got["first"] != 0, got["other"] != 0):
        found.append(concerns("two different keys gave the same mask", KEY))
    return merge_findings(found)


def _one_dropout(out, want, x, p):
    """What is wrong with one dropout output, each finding naming the tests that check it."""
    if out.shape != want.shape or out.dtype != want.dtype:
        return [f"an array of shape {out.shape} and dtype {out.dtype}, not the shape and dtype of x"]
    kept = out != 0
    if not kept.any() or kept.all():
        return ["it keeps all the entries or none"]
    found = []
    if not np.allclose(out[kept], x[kept] / p, rtol=1e-5, atol=1e-6):
        ratio = out[kept] / x[kept]
        if not np.allclose(ratio, ratio[0], rtol=1e-5):
            return ["the kept entries are not x / p_keep, nor x times any one number"]
        found.append(concerns(f"the kept entries are x times {ratio[0]:.4g}, not x / p_keep", SCALES))
    if kept.ndim == 2 and ((kept == kept[:1]).all() or (kept == kept[:, :1]).all()):
        found.append(concerns("the same entries were kept in every row (or every column): the mask was "
                              "broadcast, not drawn for every entry", RATE))
    rate = float(kept.mean())
    if abs(rate - p) > Z * math.sqrt(p * (1 - p) / kept.size):
        found.append(concerns(f"it keeps a fraction {rate:.3f} of the entries, too far from p_keep", RATE))
    return found


@PROBES("dropout", make=_dropout_inputs, check=_check_dropout)
def dropout(ex, x, seeds, p_high, p_low):
    f = jax.jit(ex.dropout, static_argnums=2)
    first, other, low = seeds
    return {"first": f(_key(first), x, p_high), "again": f(_key(first), x, p_high),
            "other": f(_key(other), x, p_high), "low": f(_key(low), x, p_low)}
