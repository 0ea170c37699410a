"""Tests for lesson 11: normalization and attention.

The expected values come from small float64 NumPy versions of each function, written below. (The kit's
own tests check that those equal `flax.nnx`'s LayerNorm, RMSNorm, GroupNorm, InstanceNorm, BatchNorm and
MultiHeadAttention, and `jax.nn.dot_product_attention`, with the same parameters.) Each function is
called through `jax.jit`, once per shape, so the file compiles only a few small programs. Where an
exercise is built on earlier ones (multi_head_attention on split_heads, attention and merge_heads;
Transformer on causal_mask and TransformerBlock), its tests run it on the docstrings' versions of those,
written below, in place of yours: a mistake in an earlier exercise costs that exercise's tests alone.
"""
import functools
import traceback

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from grader.learner import expect, jaxprs
from grader.learner.shared.lesson11 import on_documented as _on_documented

LN_EPS = 1e-6  # nnx.LayerNorm, RMSNorm, GroupNorm, InstanceNorm
BN_EPS, BN_MOMENTUM = 1e-5, 0.99  # nnx.BatchNorm


# ---------------------------------------------------------------- helpers

def _floats(seed, shape, scale=1.0, shift=0.0):
    return (shift + scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def _matches(got, want, rtol=1e-4, atol=1e-5) -> bool:
    return expect.matches(got, want, rtol, atol)


_or_none = expect.or_none


def _slip(got, slips, default, rtol=1e-4, atol=1e-5) -> str:
    """The description of the first slip whose value `got` matches, else `default`."""
    for what, value in slips:
        if value is not None and _matches(got, value, rtol, atol):
            return what
    return default


_raised = expect.raised


DPA_HINT = ("the error came from jax.nn.dot_product_attention. It wants its own layout, (batch, length, heads, "
            "head_dim), and values as wide as the queries; this attention takes values of another width (v's last "
            "axis dv need not be q's d) and any leading axes. Compute the scaled scores, the masked stable softmax "
            "over the keys and the weighted sum of the values yourself.")


def _from_dot_product_attention(err: BaseException) -> bool:
    """True when the error was raised inside, or on the line of a call to, jax.nn.dot_product_attention."""
    frames = traceback.extract_tb(err.__traceback__)
    return any(f.name == "dot_product_attention" or "dot_product_attention" in (f.line or "") for f in frames)


def _call(fn, *args, call, expected, hint):
    """fn(*args); a TypeError or ValueError (a shape that doesn't line up) becomes a failure message.
    `hint` is the hint, or a function of the error that gives it (a hint that reads what the error saw)."""
    try:
        return fn(*args)
    except (TypeError, ValueError, IndexError) as err:
        said = DPA_HINT if _from_dot_product_attention(err) else hint(err) if callable(hint) else hint
        raise expect.failure(call, expected, _raised(err), said) from None


# ---------------------------------------------------------------- reference math, float64 NumPy

def _np_normalize(x, axes, eps, ddof=0):
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    return (x - mean) / np.sqrt(var + eps)


def _affine(normalized, scale, bias):
    return normalized * np.asarray(scale, np.float64) + np.asarray(bias, np.float64)


def _np_layer_norm(x, scale, bias, eps=LN_EPS, axes=-1, ddof=0):
    return _affine(_np_normalize(x, axes, eps, ddof), scale, bias)


def _np_rms_norm(x, scale, eps=LN_EPS, axes=-1):
    x = np.asarray(x, np.float64)
    return x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps) * np.asarray(scale, np.float64)


def _np_group_norm(x, scale, bias, num_groups, eps=LN_EPS, interleaved=False, with_batch=False, spatial=True,
                   ddof=0):
    x = np.asarray(x, np.float64)
    c = x.shape[-1]
    if interleaved:
        grouped = x.reshape(x.shape[:-1] + (c // num_groups, num_groups))
        group_axis = -2
    else:
        grouped = x.reshape(x.shape[:-1] + (num_groups, c // num_groups))
        group_axis = -1
    axes = ([0] if with_batch else []) + (list(range(1, x.ndim - 1)) if spatial else []) + [grouped.ndim + group_axis]
    normalized = _np_normalize(grouped, tuple(axes), eps, ddof).reshape(x.shape)
    return _affine(normalized, scale, bias)


def _np_instance_norm(x, scale, bias, eps=LN_EPS):
    return _affine(_np_normalize(x, tuple(range(1, np.ndim(x) - 1)), eps), scale, bias)


def _np_batch_norm(x, scale, bias, mean, var, training, momentum=BN_MOMENTUM, eps=BN_EPS, ddof=0):
    x = np.asarray(x, np.float64)
    mean, var = np.asarray(mean, np.float64), np.asarray(var, np.float64)
    if not training:
        return _affine((x - mean) / np.sqrt(var + eps), scale, bias), mean, var
    axes = tuple(range(x.ndim - 1))
    m, v = x.mean(axis=axes), x.var(axis=axes, ddof=ddof)
    y = _affine((x - m) / np.sqrt(v + eps), scale, bias)
    return y, momentum * mean + (1 - momentum) * m, momentum * var + (1 - momentum) * v


def _np_softmax(z, axis=-1):
    """A stable softmax; a row with every entry -inf (a slip that masks everything) comes out NaN."""
    z = np.asarray(z, np.float64)
    with np.errstate(invalid="ignore"):
        z = z - z.max(axis=axis, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)


def _np_attention(q, k, v, mask=None, scale=None, softmax_axis=-1, how="mask"):
    """Attention in float64; the keywords give the usual slips instead of the right thing."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / (np.sqrt(q.shape[-1]) if scale is None else scale)
    if mask is None or how == "ignore":
        return _np_softmax(scores, softmax_axis) @ v
    mask = np.broadcast_to(np.asarray(mask, bool), scores.shape)
    if how == "mask":
        weights = _np_softmax(np.where(mask, scores, -np.inf), softmax_axis)
    elif how == "inverted":
        weights = _np_softmax(np.where(~mask, scores, -np.inf), softmax_axis)
    elif how == "transposed":
        weights = _np_softmax(np.where(np.swapaxes(mask, -1, -2), scores, -np.inf), softmax_axis)
    elif how == "after_softmax":
        weights = _np_softmax(scores, softmax_axis) * mask
    elif how == "zero_scores":
        weights = _np_softmax(np.where(mask, scores, 0.0), softmax_axis)
    return weights @ v


def _np32_shifted(q, k, v, mask, shift):
    """Attention in float32 (where exp underflows as it does in JAX) with the max subtracted the wrong way:
    "all_keys", each query's max over every key, masked ones included, the masked keys dropped after exp();
    "whole", one max for the whole array ("whole_allowed": over the scores the mask allows). Rows whose allowed
    weights all underflow come out NaN."""
    q, k, v = (np.asarray(a, np.float32) for a in (q, k, v))
    scores = (q @ np.swapaxes(k, -1, -2) / np.float32(np.sqrt(q.shape[-1]))).astype(np.float32)
    allowed = np.broadcast_to(np.asarray(mask, bool), scores.shape)
    top = {"all_keys": lambda: scores.max(axis=-1, keepdims=True), "whole": scores.max,
           "whole_allowed": lambda: scores[allowed].max()}[shift]()
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        e = np.where(allowed, np.exp(scores - top), np.float32(0)).astype(np.float32)
        return (e / e.sum(axis=-1, keepdims=True)) @ v


def _np32_unshifted(q, k, v, mask):
    """Attention in float32 with no max subtracted before exp(): scores in the thousands overflow to inf,
    and inf / inf is NaN."""
    q, k, v = (np.asarray(a, np.float32) for a in (q, k, v))
    scores = (q @ np.swapaxes(k, -1, -2) / np.float32(np.sqrt(q.shape[-1]))).astype(np.float32)
    allowed = np.broadcast_to(np.asarray(mask, bool), scores.shape)
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        e = np.where(allowed, np.exp(scores), np.float32(0)).astype(np.float32)
        return (e / e.sum(axis=-1, keepdims=True)) @ v


def _np_split(x, h):
    b, t, d = x.shape
    return np.asarray(x).reshape(b, t, h, d // h).transpose(0, 2, 1, 3)


def _np_merge(x):
    b, h, t, e = x.shape
    return np.asarray(x).transpose(0, 2, 1, 3).reshape(b, t, h * e)


def _np_mha(params, x, h, mask=None, split=_np_split, merge=_np_merge, out=True, how="mask", scale=None):
    p = {name: {k: np.asarray(v, np.float64) for k, v in layer.items()} for name, layer in params.items()}
    x = np.asarray(x, np.float64)
    q, k, v = (split(x @ p[n]["kernel"] + p[n]["bias"], h) for n in ("query", "key", "value"))
    merged = merge(_np_attention(q, k, v, mask, scale=scale, how=how))
    return merged @ p["out"]["kernel"] + p["out"]["bias"] if out else merged


# ---------------------------------------------------------------- layer_norm

def _ln_case():
    x = _floats(1, (3, 4, 8)) * _floats(2, (3, 4, 1), 1.0, 2.0) + _floats(3, (3, 4, 1), 2.0)
    return x, _floats(4, (8,), 0.5, 1.0), _floats(5, (8,), 0.5)


def _norm_slips(x, scale, bias, fn, axes):
    """The usual slips of a normalization over `axes`, each said as observed."""
    other = {-1: 0}.get(axes, -1)
    return [
        ("the variance divides by n - 1 (ddof=1); the normalization layers use the plain variance, dividing by n.",
         _affine(_np_normalize(x, axes, LN_EPS, ddof=1), scale, bias)),
        ("this is (x - mean) / sqrt(var + eps) with the scale and the bias never applied.",
         _np_normalize(x, axes, LN_EPS)),
        ("the bias was added before the scale multiplied: scale the normalized x first, then add the bias.",
         (_np_normalize(x, axes, LN_EPS) + bias) * scale),
        ("x was divided by the variance, not by its square root (the standard deviation).",
         _affine((np.asarray(x, np.float64) - np.mean(x, axis=axes, keepdims=True))
                 / (np.var(np.asarray(x, np.float64), axis=axes, keepdims=True) + LN_EPS), scale, bias)),
        (f"the mean and variance were taken over axis {other}, across the other rows, not over {fn}'s own axes.",
         _affine(_np_normalize(x, other, LN_EPS), scale, bias)),
        ("one mean and one variance were taken over the whole array; each row (or group) needs its own.",
         _affine(_np_normalize(x, None, LN_EPS), scale, bias)),
    ]


@pytest.mark.exercise("layer_norm", points=2)
def test_layer_norm(ex):
    x, scale, bias = _ln_case()
    call = f"layer_norm(x, scale, bias) with x of shape {x.shape} (rows with different means and spreads)"
    got = _call(jax.jit(ex.layer_norm), x, scale, bias, call=call, expected=f"an array of shape {x.shape}",
                hint="reduce over the last axis with keepdims=True, so each row's mean lines up with its row.")
    want = _np_layer_norm(x, scale, bias)
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-4, atol=1e-4,
                 hint=_slip(got, _norm_slips(x, scale, bias, "layer_norm", -1),
                            "each row over its last axis: (x - mean) / sqrt(var + eps), times scale, plus bias."))


def _small_spread_case():
    """Rows whose spread is near or below sqrt(eps), and a constant row: there eps decides the result."""
    rows = [_floats(6, (8,), 1e-3), _floats(7, (8,), 3e-4, 0.01), np.full((8,), 0.25, np.float32), _floats(8, (8,))]
    return np.stack(rows).astype(np.float32), _floats(9, (8,), 0.5, 1.0), _floats(10, (8,), 0.5)


def _eps_slips(x, scale, bias, normalize):
    """The usual eps slips, for normalize(x, eps, outside) -> normalized x."""
    return [
        ("eps sits outside the square root, (x - mean) / (sqrt(var) + eps); it belongs inside, sqrt(var + eps). "
         "The two agree only while the variance is much larger than eps.", _affine(normalize(x, LN_EPS, True), scale, bias)),
        ("this is the result with eps = 1e-5 (BatchNorm's default); the default here is Flax's 1e-6.",
         _affine(normalize(x, 1e-5, False), scale, bias)),
    ]


def _ln_eps_normalize(x, eps, outside):
    x = np.asarray(x, np.float64)
    centered = x - x.mean(axis=-1, keepdims=True)
    std = x.std(axis=-1, keepdims=True)
    return centered / (std + eps) if outside else centered / np.sqrt(std ** 2 + eps)


@pytest.mark.exercise("layer_norm", points=1)
def test_layer_norm_small_variance(ex):
    x, scale, bias = _small_spread_case()
    call = ("layer_norm(x, scale, bias) with the default eps, x of shape (4, 8): rows with spreads 1e-3 and 3e-4, "
            "a constant row, and an ordinary row")
    got = jax.jit(ex.layer_norm)(x, scale, bias)
    want = _np_layer_norm(x, scale, bias)
    if not expect.all_finite(got):
        hint = ("the constant row has variance 0, and 0 / sqrt(0) is NaN: eps inside the square root keeps it finite "
                "(that row becomes the bias).")
    else:
        hint = _slip(got, _eps_slips(x, scale, bias, _ln_eps_normalize),
                     "(x - mean) / sqrt(var + eps), with eps = 1e-6 by default, inside the square root.")
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-3, atol=1e-3, hint=hint)


# ---------------------------------------------------------------- rms_norm

@pytest.mark.exercise("rms_norm", points=2)
def test_rms_norm(ex):
    x, scale, _ = _ln_case()
    call = f"rms_norm(x, scale) with x of shape {x.shape} (rows with nonzero means)"
    got = _call(jax.jit(ex.rms_norm), x, scale, call=call, expected=f"an array of shape {x.shape}",
                hint="reduce over the last axis with keepdims=True, so each row's mean square lines up with its row.")
    want = _np_rms_norm(x, scale)
    x64 = np.asarray(x, np.float64)
    slips = [
        ("each row's mean was subtracted first: that is layer normalization. RMSNorm only divides by the root "
         "mean square of x itself.", _np_normalize(x, -1, LN_EPS) * scale),
        ("x was divided by the mean square, not by its square root.",
         x64 / ((x64 ** 2).mean(axis=-1, keepdims=True) + LN_EPS) * scale),
        ("x was divided by the root of the SUM of squares; the mean square divides that sum by d.",
         x64 / np.sqrt((x64 ** 2).sum(axis=-1, keepdims=True) + LN_EPS) * scale),
        ("this is x / rms with the scale never applied.", _np_rms_norm(x, np.ones(8))),
        ("the mean square was taken over axis 0, across rows, not over each row's features (the last axis).",
         _np_rms_norm(x, scale, axes=0)),
    ]
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-4, atol=1e-4,
                 hint=_slip(got, slips, "x / sqrt(mean(x ** 2 over the last axis) + eps), times scale."))


@pytest.mark.exercise("rms_norm", points=1)
def test_rms_norm_small_inputs(ex):
    x, scale, _ = _small_spread_case()
    x = np.concatenate([x, np.zeros((1, 8), np.float32)])
    call = ("rms_norm(x, scale) with the default eps, x of shape (5, 8): rows of size about 1e-3 and 3e-4, a "
            "constant row, an ordinary row and a row of zeros")
    got = jax.jit(ex.rms_norm)(x, scale)
    want = _np_rms_norm(x, scale)

    def normalize(x, eps, outside):
        x = np.asarray(x, np.float64)
        rms = np.sqrt((x * x).mean(axis=-1, keepdims=True))
        return x / (rms + eps) if outside else x / np.sqrt(rms ** 2 + eps)

    if not expect.all_finite(got):
        hint = "the row of zeros gives 0 / 0 = NaN: eps inside the square root keeps it finite (that row stays 0)."
    else:
        hint = _slip(got, _eps_slips(x, scale, 0.0, normalize),
                     "x / sqrt(mean(x ** 2) + eps), with eps = 1e-6 by default, inside the square root.")
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-3, atol=1e-3, hint=hint)


# ---------------------------------------------------------------- group_norm

def _gn_slips(x, scale, bias, g):
    c = x.shape[-1]
    return [
        (f"the groups were taken interleaved (channel i in group i % {g}); a group is {c // g} CONSECUTIVE "
         "channels, as reshaping the channel axis to (num_groups, c // num_groups) gives.",
         _np_group_norm(x, scale, bias, g, interleaved=True)),
        (f"these are groups of {g} channels ({c // g} groups): num_groups is the number of groups, each of "
         "c // num_groups channels.", _np_group_norm(x, scale, bias, c // g)),
        ("the statistics were also taken over the batch axis; each example is normalized on its own.",
         _np_group_norm(x, scale, bias, g, with_batch=True)),
        ("the statistics were taken over each group's channels only, position by position; they also run over "
         "the axes between batch and channels.", _np_group_norm(x, scale, bias, g, spatial=False)),
        ("the variance divides by n - 1 (ddof=1); use the plain variance, dividing by n.",
         _np_group_norm(x, scale, bias, g, ddof=1)),
        ("this is the normalized x with the scale and the bias never applied.",
         _np_group_norm(x, np.ones(c), np.zeros(c), g)),
    ]


GROUP_HINT = ("per example, one mean and variance for each group of c // num_groups consecutive channels, over "
              "every axis but the batch; then each channel's scale and bias.")


@pytest.mark.exercise("group_norm", points=2)
def test_group_norm(ex):
    x = _floats(11, (2, 3, 2, 6), 1.0) * _floats(12, (2, 1, 1, 6), 1.0, 1.5) + _floats(13, (2, 1, 1, 6), 2.0)
    scale, bias = _floats(14, (6,), 0.5, 1.0), _floats(15, (6,), 0.5)
    call = "group_norm(x, scale, bias, num_groups=3) with x of shape (2, 3, 2, 6): 2 images, 3x2 pixels, 6 channels"
    norm = jax.jit(ex.group_norm, static_argnums=3)
    got = _call(norm, x, scale, bias, 3, call=call, expected="an array of shape (2, 3, 2, 6)",
                hint="reshape the channel axis to (num_groups, c // num_groups), reduce, and reshape back.")
    want = _np_group_norm(x, scale, bias, 3)
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-4, atol=1e-4, hint=_slip(got, _gn_slips(x, scale, bias, 3),
                                                                                          GROUP_HINT))


@pytest.mark.exercise("group_norm", points=1)
def test_group_norm_any_shape(ex):
    norm = jax.jit(ex.group_norm, static_argnums=3)
    cases = [((5, 8), 4, "no axes between batch and channels"),
             ((2, 2, 3, 2, 4), 4, "three axes between, and one channel per group"),
             ((2, 4, 3, 6), 1, "one group holding every channel")]
    for i, (shape, g, what) in enumerate(cases):
        x = _floats(20 + i, shape, 1.5, 0.5)
        c = shape[-1]
        scale, bias = _floats(30 + i, (c,), 0.5, 1.0), _floats(40 + i, (c,), 0.5)
        call = f"group_norm(x, scale, bias, num_groups={g}) with x of shape {shape} ({what})"
        got = _call(norm, x, scale, bias, g, call=call, expected=f"an array of shape {shape}",
                    hint="the axes to reduce are every axis but the first (batch), whatever their number: build "
                         "them from x.ndim rather than naming them.")
        expect.close(got, _np_group_norm(x, scale, bias, g).astype(np.float32), call=call, rtol=1e-4, atol=1e-4,
                     hint=_slip(got, _gn_slips(x, scale, bias, g), GROUP_HINT + " The axes between batch and "
                                "channels may be none or several: build the axes from x.ndim."))


# ---------------------------------------------------------------- instance_norm

def _in_slips(x, scale, bias):
    x64 = np.asarray(x, np.float64)
    between = tuple(range(1, x64.ndim - 1))
    return [
        ("the statistics also ran over the channels: one mean per example (layer norm over the whole example). "
         "Instance norm keeps each channel apart.", _affine(_np_normalize(x, tuple(range(1, x64.ndim)), LN_EPS),
                                                            scale, bias)),
        ("the statistics also ran over the batch: one mean per channel for the whole batch, as BatchNorm "
         "computes. Instance norm keeps each example apart.",
         _affine(_np_normalize(x, tuple(range(x64.ndim - 1)), LN_EPS), scale, bias)),
        ("the statistics ran over the last axis, the channels, position by position (layer norm); they run "
         "over the axes between batch and channels.", _affine(_np_normalize(x, -1, LN_EPS), scale, bias)),
        ("the statistics ran over one of the axes between batch and channels only; they run over all of them.",
         _affine(_np_normalize(x, between[:1], LN_EPS), scale, bias) if len(between) > 1 else None),
        ("this is the normalized x with the scale and the bias never applied.", _np_normalize(x, between, LN_EPS)),
    ]


@pytest.mark.exercise("instance_norm", points=2)
def test_instance_norm(ex):
    x = _floats(50, (3, 4, 5, 2), 1.0) * _floats(51, (3, 1, 1, 2), 1.0, 1.5) + _floats(52, (3, 1, 1, 2), 2.0)
    scale, bias = _floats(53, (2,), 0.5, 1.0), _floats(54, (2,), 0.5)
    call = "instance_norm(x, scale, bias) with x of shape (3, 4, 5, 2): 3 images, 4x5 pixels, 2 channels"
    got = _call(jax.jit(ex.instance_norm), x, scale, bias, call=call, expected="an array of shape (3, 4, 5, 2)",
                hint="reduce over the axes between batch and channels, keeping them (keepdims=True).")
    expect.close(got, _np_instance_norm(x, scale, bias).astype(np.float32), call=call, rtol=1e-4, atol=1e-4,
                 hint=_slip(got, _in_slips(x, scale, bias), "one mean and variance per example and channel, over the "
                                                            "axes between batch and channels."))


@pytest.mark.exercise("instance_norm", points=1)
def test_instance_norm_any_shape(ex):
    x = _floats(55, (2, 7, 3), 2.0, 1.0)
    scale, bias = _floats(56, (3,), 0.5, 1.0), _floats(57, (3,), 0.5)
    call = "instance_norm(x, scale, bias) with x of shape (2, 7, 3): 2 sequences of length 7, 3 channels"
    got = _call(jax.jit(ex.instance_norm), x, scale, bias, call=call, expected="an array of shape (2, 7, 3)",
                hint="the axes between batch and channels may be one or several: build them from x.ndim.")
    expect.close(got, _np_instance_norm(x, scale, bias).astype(np.float32), call=call, rtol=1e-4, atol=1e-4,
                 hint=_slip(got, _in_slips(x, scale, bias), "here the only axis between batch and channels is the "
                                                            "sequence: build the axes from x.ndim rather than naming "
                                                            "them."))


# ---------------------------------------------------------------- batch_norm

def _bn_case():
    x = _floats(60, (6, 3, 4), 1.0) * _floats(61, (4,), 0.5, 1.5) + _floats(62, (4,), 2.0)
    return (x, _floats(63, (4,), 0.5, 1.0), _floats(64, (4,), 0.5), _floats(65, (4,), 0.5),
            np.random.default_rng(66).uniform(0.5, 2.0, 4).astype(np.float32))


BN_CALL = ("batch_norm(x, scale, bias, running_mean, running_var, training={training}{more}) with x of shape "
           "(6, 3, 4): 6 examples of 3 positions, 4 channels")


def _bn(ex):
    return jax.jit(ex.batch_norm, static_argnums=5)


def _bn_triple(result, call):
    expect.that(isinstance(result, (tuple, list)) and len(result) == 3, call=call,
                expected="a triple (y, new_mean, new_var)", returned=expect.show(result),
                hint="return the normalized x and the two running averages, in that order.")
    return result


@pytest.mark.exercise("batch_norm", points=2)
def test_batch_norm_training_output(ex):
    x, scale, bias, mean, var = _bn_case()
    call = BN_CALL.format(training=True, more="")
    y = _bn_triple(_call(_bn(ex), x, scale, bias, mean, var, True, call=call, expected="a triple (y, new_mean, new_var)",
                         hint="the batch statistics have one number per channel: reduce over every axis but the last."),
                   call)[0]
    want = _np_batch_norm(x, scale, bias, mean, var, True)[0]
    slips = [
        ("y was normalized with the running averages; in training mode BatchNorm normalizes with this batch's own "
         "statistics.", _np_batch_norm(x, scale, bias, mean, var, False)[0]),
        ("y was normalized with the UPDATED running averages (the new_mean and new_var it returns); in training mode "
         "BatchNorm normalizes with this batch's own mean and variance, and only hands the moved averages back.",
         _np_batch_norm(x, scale, bias, *_np_batch_norm(x, scale, bias, mean, var, True)[1:], False)[0]),
        ("the statistics were taken over axis 0 only, one per (position, channel); they run over every axis but "
         "the channels.", _affine(_np_normalize(x, 0, BN_EPS), scale, bias)),
        ("the variance divides by n - 1 (ddof=1); normalize with the plain variance, dividing by n.",
         _np_batch_norm(x, scale, bias, mean, var, True, ddof=1)[0]),
        ("this is the result with eps = 1e-6; BatchNorm's default eps is 1e-5.",
         _np_batch_norm(x, scale, bias, mean, var, True, eps=1e-6)[0]),
    ]
    expect.close(y, want.astype(np.float32), call=call + ": y", rtol=1e-4, atol=1e-4,
                 hint=_slip(y, slips, "per channel, over every other axis: (x - mean) / sqrt(var + eps), times scale, "
                                      "plus bias."))
    # x is (batch, ..., c): images, with two axes between batch and channels, too
    images = _floats(67, (2, 3, 5, 4)) * _floats(61, (4,), 0.5, 1.5) + _floats(62, (4,), 2.0)
    call = (f"batch_norm(x, scale, bias, running_mean, running_var, training=True) with x of shape {images.shape}: "
            "2 images of 3x5 pixels, 4 channels")
    y = _bn_triple(_call(_bn(ex), images, scale, bias, mean, var, True, call=call,
                         expected="a triple (y, new_mean, new_var)",
                         hint="x may have any number of axes: build the axes to reduce from x.ndim."), call)[0]
    slips = [(f"the statistics ran over the first {k} axes only; they run over every axis but the last, however many "
              "x has: build the axes from x.ndim.",
              _affine(_np_normalize(images, tuple(range(k)), BN_EPS), scale, bias)) for k in (1, 2)]
    expect.close(y, _np_batch_norm(images, scale, bias, mean, var, True)[0].astype(np.float32), call=call + ": y",
                 rtol=1e-4, atol=1e-4,
                 hint=_slip(y, slips, "per channel, over every other axis, however many axes x has: (x - mean) / "
                                      "sqrt(var + eps), times scale, plus bias."))


@pytest.mark.exercise("batch_norm", points=2)
def test_batch_norm_running_averages(ex):
    x, scale, bias, mean, var = _bn_case()
    norm = _bn(ex)
    for momentum in (0.9, None):
        more = "" if momentum is None else f", momentum={momentum}"
        m = BN_MOMENTUM if momentum is None else momentum
        call = BN_CALL.format(training=True, more=more)
        args = (x, scale, bias, mean, var, True) + (() if momentum is None else (momentum,))
        _, new_mean, new_var = _bn_triple(_call(norm, *args, call=call, expected="a triple (y, new_mean, new_var)",
                                                hint="reduce over every axis but the last."), call)
        _, want_mean, want_var = _np_batch_norm(x, scale, bias, mean, var, True, momentum=m)
        got = (new_mean, new_var)
        batch = _np_batch_norm(x, scale, bias, mean, var, True, momentum=0.0)
        slips = [
            ("the running averages came back unchanged: in training mode they move towards the batch's statistics.",
             (mean, var)),
            ("momentum weighs the wrong side: these are momentum * batch + (1 - momentum) * running. The running "
             "average keeps momentum of its old value.", _np_batch_norm(x, scale, bias, mean, var, True, momentum=1 - m)[1:]),
            ("these are the batch's own statistics, not running averages.", batch[1:]),
            ("the variance folded into new_var divides by n - 1 (ddof=1, as PyTorch keeps it); Flax's BatchNorm, and "
             "this docstring, use the plain variance, dividing by n.",
             _np_batch_norm(x, scale, bias, mean, var, True, momentum=m, ddof=1)[1:]),
            (f"these follow momentum {0.9 if momentum is None else BN_MOMENTUM}: "
             + ("the default momentum is Flax's 0.99." if momentum is None else "use the momentum passed in."),
             _np_batch_norm(x, scale, bias, mean, var, True, momentum=0.9 if momentum is None else BN_MOMENTUM)[1:]),
        ]
        expect.close(got, (want_mean.astype(np.float32), want_var.astype(np.float32)),
                     call=call + ": (new_mean, new_var)", rtol=1e-4, atol=1e-5,
                     hint=_slip(got, slips, "momentum * running + (1 - momentum) * the batch's statistic, per channel "
                                            "(the plain variance for var)."))


@pytest.mark.exercise("batch_norm", points=2)
def test_batch_norm_eval(ex):
    x, scale, bias, mean, var = _bn_case()
    call = BN_CALL.format(training=False, more="")
    y, new_mean, new_var = _bn_triple(_call(_bn(ex), x, scale, bias, mean, var, False, call=call,
                                            expected="a triple (y, new_mean, new_var)", hint="see the docstring's "
                                            "evaluation mode."), call)
    want = _np_batch_norm(x, scale, bias, mean, var, False)[0]
    if _matches(y, _np_batch_norm(x, scale, bias, mean, var, True)[0], 1e-4, 1e-4):
        hint = ("in evaluation mode y was normalized with this batch's statistics; it uses the running averages, so "
                "one example's output doesn't depend on the rest of its batch.")
    else:
        hint = "(x - running_mean) / sqrt(running_var + eps), times scale, plus bias."
    expect.close(y, want.astype(np.float32), call=call + ": y", rtol=1e-4, atol=1e-4, hint=hint)
    expect.close((new_mean, new_var), (mean, var), call=call + ": (new_mean, new_var)", rtol=1e-6, atol=1e-7,
                 hint="in evaluation mode the running averages stay as they are: return the ones you were given.")


# ---------------------------------------------------------------- causal_mask

@pytest.mark.exercise("causal_mask", points=1)
def test_causal_mask(ex):
    want = np.tril(np.ones((5, 5), bool))
    call = "causal_mask(5)"
    got = np.asarray(jax.jit(ex.causal_mask, static_argnums=0)(5))
    expect.shape(got, (5, 5), call=call, hint="one row per query position, one column per key position.")
    if got.dtype == bool and np.array_equal(got, want.T):
        hint = ("row i is True at j >= i: query i may look at the positions AFTER it. Causal attention looks only at "
                "j <= i (the lower triangle).")
    elif got.dtype == bool and np.array_equal(got, np.tril(want, -1)):
        hint = "the diagonal is False: a position may attend to itself (j <= i, not j < i)."
    elif got.dtype == bool and np.array_equal(got, ~want):
        hint = "True and False are swapped: True marks where attention is allowed, j <= i."
    else:
        hint = "True where j <= i, a bool array."
    expect.equal(got, want, call=call, hint=hint)


# ---------------------------------------------------------------- attention

def _qkv(seed, lead, lq, lk, d, dv, scale=1.0):
    return (_floats(seed, lead + (lq, d), scale), _floats(seed + 1, lead + (lk, d), scale),
            _floats(seed + 2, lead + (lk, dv)))


def _attention_slips(q, k, v, mask=None):
    d = q.shape[-1]
    slips = [
        ("the scores were not scaled: divide q @ k^T by sqrt(d), d the size of each query.",
         _np_attention(q, k, v, mask, scale=1.0)),
        ("the scores were divided by d; the scale is 1 / sqrt(d).", _np_attention(q, k, v, mask, scale=d)),
        ("the scores were divided by sqrt of the VALUES' size; the scale is 1 / sqrt(d), d the size of the queries "
         "and keys.", _np_attention(q, k, v, mask, scale=np.sqrt(v.shape[-1]))),
    ]
    if q.shape[-2] == k.shape[-2]:
        slips.append(("the softmax ran over the queries (axis -2): each query's weights, over the keys (the last "
                      "axis), must sum to 1.", _np_attention(q, k, v, mask, softmax_axis=-2)))
    return slips


def _attention(ex):
    return jax.jit(ex.attention)


def _shape_error_hint(k, otherwise):
    """A hint for a shape error in attention: said when the error shows k with ALL its axes reversed (as
    k.T makes it), else `otherwise`."""
    reversed_k = "[" + ",".join(str(n) for n in np.shape(k)[::-1]) + "]"

    def hint(err):
        if reversed_k in str(err).replace(" ", ""):
            return (f"k went into the scores' matrix product with all its axes reversed, shape {np.shape(k)[::-1]} "
                    "(what k.T gives when k has more than two axes): only k's last two axes trade places; the batch "
                    "axes stay in front.")
        return otherwise
    return hint


@pytest.mark.exercise("attention", points=2)
def test_attention(ex):
    # every size different (batch 2, 4 queries, 5 keys, d 3, dv 6), so no two axes can stand in for each other
    q, k, v = _qkv(70, (2,), 4, 5, 3, 6)
    call = "attention(q, k, v) with q of shape (2, 4, 3), k (2, 5, 3), v (2, 5, 6), no mask"
    got = _call(_attention(ex), q, k, v, call=call, expected="an array of shape (2, 4, 6)",
                hint=_shape_error_hint(k, "the scores q @ k^T have shape (2, 4, 5), one row per query and one "
                                          "column per key; the weights times v give (2, 4, 6)."))
    expect.shape(got, (2, 4, 6), call=call, hint="one row of dv values per query: weights (2, 4, 5) @ v (2, 5, 6).")
    slips = _attention_slips(q, k, v)
    expect.close(got, _np_attention(q, k, v).astype(np.float32), call=call, rtol=1e-4, atol=1e-5,
                 hint=_slip(got, slips, "softmax(q @ k^T / sqrt(d)) over the keys, then times v."))


def _mask_slips(q, k, v, mask):
    return [
        ("the mask changed nothing: masked keys must get weight 0 (their scores set to -inf, or a very negative "
         "number, before the softmax).", _np_attention(q, k, v, mask, how="ignore")),
        ("the weights were multiplied by the mask after the softmax, so the allowed ones no longer sum to 1: mask "
         "the scores before the softmax.", _np_attention(q, k, v, mask, how="after_softmax")),
        ("masked scores were set to 0, which exp() turns into weight exp(0 - max), not 0: set them to -inf (or a "
         "very negative number).", _np_attention(q, k, v, mask, how="zero_scores")),
        ("True and False are read the other way round: True marks the keys a query MAY attend to.",
         _np_attention(q, k, v, mask, how="inverted")),
        ("the mask was applied transposed, as (key, query): mask[i, j] is about query i and key j.",
         _np_attention(q, k, v, mask, how="transposed")),
    ] + _attention_slips(q, k, v, mask)


@pytest.mark.exercise("attention", points=2)
def test_attention_causal_mask(ex):
    q, k, v = _qkv(73, (2, 3), 5, 5, 4, 6)
    mask = np.tril(np.ones((5, 5), bool))
    call = "attention(q, k, v, mask) with q, k of shape (2, 3, 5, 4), v (2, 3, 5, 6) and a causal (5, 5) mask"
    got = _call(_attention(ex), q, k, v, mask, call=call, expected="an array of shape (2, 3, 5, 6)",
                hint=_shape_error_hint(k, "the (5, 5) mask broadcasts against the (2, 3, 5, 5) scores: combine them "
                                          "elementwise."))
    expect.close(got, _np_attention(q, k, v, mask).astype(np.float32), call=call, rtol=1e-4, atol=1e-5,
                 hint=_slip(got, _mask_slips(q, k, v, mask),
                            "set the masked scores to -inf before a stable softmax over the keys."))
    padding = np.array([[[[True, True, False, True, False]]], [[[True, False, False, False, False]]]])
    call = ("attention(q, k, v, mask) with q, k of shape (2, 3, 5, 4), v (2, 3, 5, 6) and a (2, 1, 1, 5) mask "
            "that hides some keys from every query")
    got = _call(_attention(ex), q, k, v, padding, call=call, expected="an array of shape (2, 3, 5, 6)",
                hint=_shape_error_hint(k, "the (2, 1, 1, 5) mask broadcasts against the (2, 3, 5, 5) scores: "
                                          "combine the two elementwise, whatever the mask's shape."))
    expect.close(got, _np_attention(q, k, v, padding).astype(np.float32), call=call, rtol=1e-4, atol=1e-5,
                 hint=_slip(got, _mask_slips(q, k, v, padding)[:4],
                            "set the masked scores to -inf before a stable softmax over the keys."))


@pytest.mark.exercise("attention", points=1)
def test_attention_large_scores(ex):
    q, k, v = _qkv(76, (2,), 4, 4, 5, 3, scale=40.0)
    mask = np.tril(np.ones((4, 4), bool))
    call = ("attention(q, k, v, mask) with q, k of shape (2, 4, 5) whose scores run into the thousands, v (2, 4, 3), "
            "a causal mask")
    got = _call(_attention(ex), q, k, v, mask, call=call, expected="an array of shape (2, 4, 3)",
                hint=_shape_error_hint(k, "the (4, 4) mask broadcasts against the (2, 4, 4) scores: combine them "
                                          "elementwise."))
    want = _np_attention(q, k, v, mask)
    if not expect.all_finite(got) and _matches(got, _np32_shifted(q, k, v, mask, "all_keys"), 1e-3, 1e-3):
        hint = ("rows of the output are NaN: each query's largest score was taken over ALL its keys, the masked ones "
                "included, and the masked keys were dropped only after exp(). Where a masked key scores far above "
                "the allowed ones, every allowed exp(score - max) underflows to 0, and 0 / 0 is NaN. Take the max "
                "over the keys the query may see: mask the scores first, then subtract each row's max.")
    elif not expect.all_finite(got) and any(_matches(got, _np32_shifted(q, k, v, mask, shift), 1e-3, 1e-3)
                                  for shift in ("whole", "whole_allowed")):
        hint = ("rows of the output are NaN: one max was subtracted for the whole array, not one per query. A query "
                "whose scores lie far below that max gets exp() = 0 for every key, and 0 / 0 is NaN. Subtract each "
                "query's own largest score, over the keys (the last axis).")
    elif not expect.all_finite(got) and _matches(got, _np32_unshifted(q, k, v, mask), 1e-3, 1e-3):
        hint = ("the output holds NaN where a softmax without the max trick gives them: exp() of scores in the "
                "thousands overflows float32 to inf, and inf / inf is NaN. Subtract each query's largest score "
                "(over the keys it may see) before exp(); the softmax doesn't change.")
    elif not expect.all_finite(got):
        hint = ("the output holds NaN or infinity where the docstring's attention gives finite numbers: with "
                "scores in the thousands, exp() must only ever see each query's scores minus its own largest one.")
    else:
        hint = _slip(got, _mask_slips(q, k, v, mask), "a stable softmax over the keys: subtract each row's max "
                                                      "before exp().")
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-4, atol=1e-4, hint=hint)


# ---------------------------------------------------------------- split_heads, merge_heads

@pytest.mark.exercise("split_heads", points=2)
def test_split_heads(ex):
    # every size different (3 sequences, length 5, 2 heads of 4 features), so no two axes pass for each other
    x = np.arange(3 * 5 * 8, dtype=np.float32).reshape(3, 5, 8)
    call = "split_heads(x, 2) with x = arange(120).reshape(3, 5, 8): 3 sequences, length 5, 8 features"
    got = np.asarray(_call(jax.jit(ex.split_heads, static_argnums=1), x, 2, call=call,
                           expected="an array of shape (3, 2, 5, 4)",
                           hint="reshape the features into (num_heads, d // num_heads), then move the head axis."))
    want = _np_split(x, 2)
    b, t, d = x.shape
    slips = [
        ("the numbers were reshaped straight to (batch, heads, length, head_dim), which mixes positions into "
         "heads. Split the feature axis first, (batch, length, heads, head_dim), then swap length and heads.",
         x.reshape(b, 2, t, d // 2)),
        ("head h got every num_heads-th feature (interleaved); it gets the h-th block of d // num_heads "
         "consecutive features.", x.reshape(b, t, d // 2, 2).transpose(0, 3, 1, 2)),
    ]
    if got.shape == (3, 5, 2, 4):
        hint = "the shape is (batch, length, heads, head_dim): move the head axis in front of length."
    else:
        hint = _slip(got, slips, "out[b, h, t, j] is x[b, t, h * head_dim + j].")
    expect.close(got, want, call=call, hint=hint)


@pytest.mark.exercise("merge_heads", points=2)
def test_merge_heads(ex):
    x = np.arange(3 * 2 * 5 * 4, dtype=np.float32).reshape(3, 2, 5, 4)
    call = "merge_heads(x) with x = arange(120).reshape(3, 2, 5, 4): 3 sequences, 2 heads, length 5, head_dim 4"
    got = np.asarray(_call(jax.jit(ex.merge_heads), x, call=call, expected="an array of shape (3, 5, 8)",
                           hint="move the head axis next to head_dim, then reshape."))
    want = _np_merge(x)
    slips = [
        ("the numbers were reshaped straight to (batch, length, d), which mixes heads into positions. Swap the heads "
         "and length axes first, then reshape.", x.reshape(3, 5, 8)),
        ("the heads were interleaved (feature j * num_heads + h); head h's features sit together, at h * head_dim "
         "+ j.", x.transpose(0, 2, 3, 1).reshape(3, 5, 8)),
    ]
    expect.close(got, want, call=call, hint=_slip(got, slips, "out[b, t, h * head_dim + j] is x[b, h, t, j]."))


# ---------------------------------------------------------------- the docstrings' earlier exercises

# multi_head_attention calls split_heads, attention and merge_heads, and Transformer builds on causal_mask and
# TransformerBlock. Their tests run them on versions of the earlier exercises written as the docstrings say
# (grader/learner/shared/lesson11.py), in place of yours: a mistake in an earlier exercise costs that
# exercise's tests alone.

@pytest.fixture
def on_documented_parts(ex):
    """A Transformer test: the model is built and run on the docstrings' causal_mask and TransformerBlock."""
    with _on_documented(ex, "Transformer"):
        yield


# ---------------------------------------------------------------- multi_head_attention

# Every size different (3 sequences, length 5, d 8, 2 heads of 4 features): an axis mixed up with another
# one of the same length would pass unseen.
D_MODEL, HEADS, LENGTH, BATCH = 8, 2, 5, 3


def _mha_params(seed, d=D_MODEL):
    rng = np.random.default_rng(seed)
    return {name: {"kernel": (rng.standard_normal((d, d)) / np.sqrt(d)).astype(np.float32),
                   "bias": (0.3 * rng.standard_normal(d)).astype(np.float32)}
            for name in ("query", "key", "value", "out")}


@pytest.mark.exercise("multi_head_attention", points=3)
def test_multi_head_attention(ex):
    params, x = _mha_params(80), _floats(81, (BATCH, LENGTH, D_MODEL))
    mask = np.tril(np.ones((LENGTH, LENGTH), bool))
    call = (f"multi_head_attention(params, x, num_heads={HEADS}, mask) with d = {D_MODEL}, x of shape "
            f"({BATCH}, {LENGTH}, {D_MODEL}) and a causal ({LENGTH}, {LENGTH}) mask, on the docstrings' "
            "split_heads, attention and merge_heads")
    with _on_documented(ex, "multi_head_attention"):
        mha = jax.jit(ex.multi_head_attention, static_argnums=2)
        got = _call(mha, params, x, HEADS, mask, call=call,
                    expected=f"an array of shape ({BATCH}, {LENGTH}, {D_MODEL})",
                    hint="project, split_heads, attention, merge_heads, project: each step's shape is in the "
                         "docstrings.")
    want = _np_mha(params, x, HEADS, mask)
    if not _matches(got, want):
        _mha_mismatch(got, want, params, x, mask, call)
    # the docstring's other mask: None, the default, where every position attends to every other
    call = (f"multi_head_attention(params, x, num_heads={HEADS}) with no mask (mask=None, the default), d = {D_MODEL}, "
            f"x of shape ({BATCH}, {LENGTH}, {D_MODEL}), on the docstrings' split_heads, attention and merge_heads")
    with _on_documented(ex, "multi_head_attention"):
        got = _call(mha, params, x, HEADS, call=call, expected=f"an array of shape ({BATCH}, {LENGTH}, {D_MODEL})",
                    hint="with a mask it runs, without one it raises: mask=None means no mask at all, and attention "
                         "takes None as it is.")
    masked_anyway = _matches(got, want)
    expect.close(got, _np_mha(params, x, HEADS, None).astype(np.float32), call=call, rtol=1e-4, atol=1e-5,
                 hint="with no mask given, the output is the causal mask's: mask=None means every query attends to "
                      "every key." if masked_anyway else
                 "with no mask every query attends to every key, as attention(q, k, v) does with mask None.")


def _mha_mismatch(got, want, params, x, mask, call):
    """Fails with the slip the result shows, if a usual one does."""
    slips = [
        ("this is the merged attention output without the last projection: apply params['out'] to it.",
         _np_mha(params, x, HEADS, mask, out=False)),
        ("this is one head over all d features (scores scaled by sqrt(d)): split q, k and v into num_heads heads "
         "first, so each head attends with its own d // num_heads features.", _np_mha(params, x, 1, mask)),
        ("the mask changed nothing: pass it on to attention.", _np_mha(params, x, HEADS, None)),
        (f"each head's scores were divided by sqrt({D_MODEL}), the model's whole feature size; a head's queries have "
         f"d // num_heads = {D_MODEL // HEADS} features, and the scale is 1 / sqrt of that (attention reads it from "
         "the last axis of the q it is given).", _np_mha(params, x, HEADS, mask, scale=np.sqrt(D_MODEL))),
        ("the heads were split by reshaping straight to (batch, heads, length, head_dim), which mixes positions "
         "into heads (split_heads' test says more).",
         _np_mha(params, x, HEADS, mask, split=lambda a, h: a.reshape(a.shape[0], h, a.shape[1], -1),
                 merge=lambda a: a.reshape(a.shape[0], a.shape[2], -1))),
    ]
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-4, atol=1e-5,
                 hint=_slip(got, slips, "q, k, v = x @ kernel + bias for each; split_heads; attention with the mask; "
                                        "merge_heads; then the out projection."))


ATTENTION_OPS = ("dot_general", "exp")  # the matrix products (projections, scores, weights @ v) and the softmax's exp


def _attention_ops(fn, *args):
    """The number of matrix products and exponentials in fn's jaxpr, nested ones included: the work of the
    attention itself, which a loop over the heads repeats once per head. (Slicing, stacking and concatenating
    the heads may take one operation per head; that is layout, not attention, and is not counted.)"""
    return sum(name in ATTENTION_OPS for name in jaxprs.op_names(jax.make_jaxpr(fn)(*args)))


@pytest.mark.exercise("multi_head_attention", points=1, concept=True)
def test_multi_head_attention_all_heads_at_once(ex):
    params, x = _mha_params(82), _floats(83, (1, 3, D_MODEL))
    sizes = {}
    for heads in (2, 4):
        call = (f"multi_head_attention(params, x, num_heads={heads}) with d = {D_MODEL}, x of shape (1, 3, {D_MODEL}), "
                "on the docstrings' split_heads, attention and merge_heads")
        try:
            with _on_documented(ex, "multi_head_attention"):
                sizes[heads] = _attention_ops(functools.partial(ex.multi_head_attention, num_heads=heads), params, x)
        except (TypeError, ValueError, IndexError) as err:
            raise expect.failure(call, "one program for every head at once", _raised(err),
                                 "num_heads is a Python int: it may shape arrays, and the program may not loop "
                                 "over it.") from None
    expect.that(sizes[2] == sizes[4], call=f"multi_head_attention(params, x, num_heads=2), then num_heads=4, d = {D_MODEL}",
                expected="the same number of matrix products and exponentials (dot_general, exp) for any number of "
                         "heads: the heads are one axis of the arrays",
                returned=f"{sizes[2]} of them for 2 heads but {sizes[4]} for 4: the attention in the program grows "
                         "with the heads",
                hint="a Python loop over the heads writes one attention per head into the program. split_heads puts "
                     "the heads on an axis of their own, and attention runs on all of them at once.")


# ---------------------------------------------------------------- the modules

DIM, MLP_DIM, VOCAB, MAX_LEN, SEQ = 8, 16, 11, 7, 6  # with HEADS 2 and BATCH 3: every size different


@nnx.jit(static_argnums=(0, 1, 2))
def _build(module_class, args, kwargs, key):
    return module_class(*args, **dict(kwargs), rngs=nnx.Rngs(key))


def _new_block(ex, seed=0):
    return _build(ex.TransformerBlock, (DIM, HEADS, MLP_DIM), (), jax.random.key(seed, impl="rbg"))


def _new_transformer(ex, causal, seed=0, vocab=VOCAB, max_len=MAX_LEN, dim=DIM, heads=HEADS, mlp=MLP_DIM):
    kwargs = (("dim", dim), ("num_heads", heads), ("mlp_dim", mlp), ("causal", causal))
    return _build(ex.Transformer, (vocab, max_len), kwargs, jax.random.key(seed, impl="rbg"))


@nnx.jit
def _apply(module, x):
    return module(x)


@nnx.jit
def _apply_masked(module, x, mask):
    return module(x, mask)


def _modules(model):
    iter_modules = getattr(nnx, "iter_modules", None)
    found = iter_modules(model) if iter_modules is not None else model.iter_modules()
    return [module for _, module in found]


def _params_of(model):
    return [np.array(leaf) for leaf in jax.tree.leaves(nnx.state(model, nnx.Param))]


def _describe(module) -> str | None:
    if isinstance(module, nnx.MultiHeadAttention):
        return f"MultiHeadAttention(num_heads={module.num_heads}, in_features={module.in_features})"
    if isinstance(module, nnx.LayerNorm):
        return f"LayerNorm({module.num_features})"
    if isinstance(module, nnx.Linear):
        return f"Linear({module.in_features} -> {module.out_features})"
    if isinstance(module, nnx.Embed):
        return f"Embed({module.num_embeddings}, {module.features})"
    if isinstance(module, (nnx.RMSNorm, nnx.BatchNorm, nnx.GroupNorm, nnx.Dropout)):
        return type(module).__name__
    return None


BLOCK_LAYERS = [f"LayerNorm({DIM})", f"MultiHeadAttention(num_heads={HEADS}, in_features={DIM})", f"LayerNorm({DIM})",
                f"Linear({DIM} -> {MLP_DIM})", f"Linear({MLP_DIM} -> {DIM})"]
BLOCK_CALL = f"TransformerBlock({DIM}, {HEADS}, {MLP_DIM}, rngs=rngs)"


def _layer_differences(model, expected):
    got = [d for d in map(_describe, _modules(model)) if d is not None]
    missing, unexpected = list(expected), []
    for layer in got:
        if layer in missing:
            missing.remove(layer)
        else:
            unexpected.append(layer)
    return [f"no {layer}" for layer in missing] + [f"a {layer}, not in the docstring" for layer in unexpected]


@pytest.mark.exercise("TransformerBlock", points=1, concept=True)
@expect.concise_errors
def test_block_layers(ex):
    block = _new_block(ex)
    differences = _layer_differences(block, BLOCK_LAYERS)
    expect.that(not differences, call=BLOCK_CALL, expected="the 5 layers of the docstring: " + ", ".join(BLOCK_LAYERS),
                returned="a block with " + "; ".join(differences),
                hint="build each layer with the sizes the docstring gives: two LayerNorm(dim), the attention, and the "
                     "MLP dim -> mlp_dim -> dim.")


# Fixed weights: each layer of the block, found by the docstring's name (or, failing that, by type and size).
BLOCK_ROLES = {
    "norm1": (nnx.LayerNorm, lambda m: m.num_features == DIM),
    "attention": (nnx.MultiHeadAttention, lambda m: m.in_features == DIM),
    "norm2": (nnx.LayerNorm, lambda m: m.num_features == DIM),
    "mlp_in": (nnx.Linear, lambda m: (m.in_features, m.out_features) == (DIM, MLP_DIM)),
    "mlp_out": (nnx.Linear, lambda m: (m.in_features, m.out_features) == (MLP_DIM, DIM)),
}


def _block_weights(seed, same_norms=False):
    rng = np.random.default_rng(seed)

    def normal(shape, scale):
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    def norm():
        return {"scale": (1.0 + normal((DIM,), 0.3)), "bias": normal((DIM,), 0.3)}

    w = {"norm1": norm(), "attention": _mha_params(int(rng.integers(1000)), DIM), "norm2": norm(),
         "mlp_in": {"kernel": normal((DIM, MLP_DIM), 1 / np.sqrt(DIM)), "bias": normal((MLP_DIM,), 0.3)},
         "mlp_out": {"kernel": normal((MLP_DIM, DIM), 1 / np.sqrt(MLP_DIM)), "bias": normal((DIM,), 0.3)}}
    if same_norms:
        w["norm2"] = w["norm1"]
    return w


def _find_block_layers(block):
    """({role: module}, same_norms, [roles not found]): by the docstring's names, else by type and size (two
    LayerNorms that can't be told apart by name get the same weights)."""
    found, same_norms = {}, False
    for role, (kind, fits) in BLOCK_ROLES.items():
        module = getattr(block, role, None)
        if isinstance(module, kind) and fits(module):
            found[role] = module
    left = [m for m in _modules(block) if m is not block and m not in found.values()]
    for role, (kind, fits) in BLOCK_ROLES.items():
        if role in found:
            continue
        candidates = [m for m in left if isinstance(m, kind) and fits(m) and m not in found.values()]
        if role.startswith("norm") and len(candidates) >= 1:
            found[role], same_norms = candidates[0], True
        elif len(candidates) == 1:
            found[role] = candidates[0]
    return found, same_norms, [r for r in BLOCK_ROLES if r not in found]


def _set_block(found, w):
    for role in ("norm1", "norm2", "mlp_in", "mlp_out"):
        for name, value in w[role].items():
            getattr(found[role], name).set_value(jnp.asarray(value))
    attention = found["attention"]
    heads = attention.num_heads
    for name in ("query", "key", "value"):
        getattr(attention, name).kernel.set_value(jnp.asarray(w["attention"][name]["kernel"].reshape(DIM, heads, -1)))
        getattr(attention, name).bias.set_value(jnp.asarray(w["attention"][name]["bias"].reshape(heads, -1)))
    attention.out.kernel.set_value(jnp.asarray(w["attention"]["out"]["kernel"].reshape(heads, -1, DIM)))
    attention.out.bias.set_value(jnp.asarray(w["attention"]["out"]["bias"]))


def _np_block(x, w, mask=None, order="pre", attn_residual=True, mlp_residual=True, relu=True, final_norm=False,
              residual_from_norm=()):
    """The docstring's block in float64 NumPy; the keywords give the usual slips instead (residual_from_norm:
    the sublayers, "attn" and/or "mlp", whose residual sum starts from the normalized x instead of x)."""
    def ln(z, p):
        return _np_layer_norm(z, p["scale"], p["bias"])

    def mlp(z):
        h = np.asarray(z, np.float64) @ w["mlp_in"]["kernel"] + w["mlp_in"]["bias"]
        h = np.maximum(h, 0) if relu else h
        return h @ w["mlp_out"]["kernel"] + w["mlp_out"]["bias"]

    def attn(z):
        return _np_mha(w["attention"], z, HEADS, mask)

    x = np.asarray(x, np.float64)
    if order == "post":
        x = ln(x + attn(x), w["norm1"])
        return ln(x + mlp(x), w["norm2"])
    h = ln(x, w["norm1"])
    base = h if "attn" in residual_from_norm else x
    x = base + attn(h) if attn_residual else attn(h)
    h = ln(x, w["norm2"])
    base = h if "mlp" in residual_from_norm else x
    x = base + mlp(h) if mlp_residual else mlp(h)
    return ln(x, w["norm2"]) if final_norm else x


BLOCK_SLIPS = [
    ("post-norm: the LayerNorms were applied to each residual sum (x = norm(x + sublayer(x))). Pre-norm applies "
     "them to the sublayer's input only: x = x + sublayer(norm(x)).", {"order": "post"}),
    ("no residual around the attention: its output replaced x instead of being added to it.",
     {"attn_residual": False}),
    ("no residual around the MLP: its output replaced x instead of being added to it.", {"mlp_residual": False}),
    ("no ReLU between mlp_in and mlp_out.", {"relu": False}),
    ("a LayerNorm was applied to the block's output as well; the block returns the last residual sum.",
     {"final_norm": True}),
    ("the residual sums starting from the NORMALIZED x (norm(x) + sublayer(norm(x))): the residual path carries x "
     "itself, never normalized; only the sublayer's input is.", {"residual_from_norm": ("attn", "mlp")}),
    ("the attention's residual sum starting from the NORMALIZED x (norm1(x) + attention(norm1(x))): the residual "
     "path carries x itself, never normalized; only the attention's input is.", {"residual_from_norm": ("attn",)}),
    ("the MLP's residual sum starting from the NORMALIZED x (norm2(x) + mlp(norm2(x))): the residual path carries "
     "x itself, never normalized; only the MLP's input is.", {"residual_from_norm": ("mlp",)}),
]


def _block_case(ex):
    """(x, the fixed weights, a new block with those weights set)."""
    x = _floats(90, (BATCH, SEQ, DIM), 1.0, 0.3)
    block = _new_block(ex)
    found, same_norms, missing = _find_block_layers(block)
    expect.that(not missing, call=f"{BLOCK_CALL}, looking for its layers by the docstring's names, then by type and size",
                expected="norm1, attention, norm2, mlp_in and mlp_out",
                returned="no single layer for " + ", ".join(missing),
                hint="build the layers the docstring lists (test_block_layers compares them one by one); this test "
                     "sets their weights to fixed values and checks the forward pass.")
    w = _block_weights(91, same_norms)
    _set_block(found, w)
    return x, w, block


@pytest.mark.exercise("TransformerBlock", points=3)
@expect.concise_errors
def test_block_forward_fixed_weights(ex):
    x, w, block = _block_case(ex)
    got = np.asarray(_apply(block, x))
    want = _np_block(x, w)
    call = (f"block(x) with block = {BLOCK_CALL}, every weight set to fixed values by the test, x of shape "
            f"({BATCH}, {SEQ}, {DIM}), no mask")
    hint = next((f"the output is the docstring's block with {what}" for what, slip in BLOCK_SLIPS
                 if _matches(got, _np_block(x, w, **slip))),
                "compare your __call__ with the docstring's two lines: x + attention(norm1(x)), then x + "
                "mlp_out(relu(mlp_in(norm2(x)))).")
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-4, atol=1e-4, hint=hint)


@pytest.mark.exercise("TransformerBlock", points=1)
@expect.concise_errors
def test_block_passes_the_mask(ex):
    mask = np.tril(np.ones((SEQ, SEQ), bool))
    x, w, block = _block_case(ex)
    call = (f"block(x, mask) with block = {BLOCK_CALL}, every weight set to fixed values by the test, x of shape "
            f"({BATCH}, {SEQ}, {DIM}) and a causal ({SEQ}, {SEQ}) mask")
    want = _np_block(x, w, mask)
    unmasked = _or_none(lambda: np.asarray(_apply(block, x)))
    try:
        got = np.asarray(_apply_masked(block, x, mask))
    except Exception as err:  # noqa: BLE001  (what the block raised is the answer we report)
        if unmasked is None:
            return  # it raises without a mask too: the forward test charges that
        raise expect.failure(call, f"an array of shape {x.shape}", _raised(err),
                             "the block runs without a mask and raises with one: follow the mask from block(x, mask) "
                             "to self.attention, which takes it as its keyword argument mask=.") from None
    if _matches(got, want):
        return
    ignored = unmasked is not None and _matches(got, unmasked, 1e-6, 1e-6)
    if not ignored and not (unmasked is not None and _matches(unmasked, _np_block(x, w))):
        return  # the mask made a difference; the block is wrong without one too (the forward test charges that)
    if ignored:
        hint = ("the mask changed nothing: the output is the block's without a mask. Pass it on to the attention as "
                "its mask.")
    elif _matches(got, _np_block(x, w, mask.T)):
        hint = ("the output is the block's with the mask transposed (True where key j >= query i): hand the attention "
                "the mask as it was given.")
    else:
        hint = ("without a mask the block gives the docstring's output; with the causal mask it does not. The "
                "attention gets the mask as it was given, True where query i may attend to key j.")
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-4, atol=1e-4, hint=hint)


# ---------------------------------------------------------------- Transformer

TRANSFORMER_CALL = (f"Transformer({VOCAB}, {MAX_LEN}, dim={DIM}, num_heads={HEADS}, mlp_dim={MLP_DIM}, "
                    "causal={causal}, rngs=rngs)")
TRANSFORMER_LAYERS = [f"Embed({VOCAB}, {DIM})", f"Embed({MAX_LEN}, {DIM})"] + BLOCK_LAYERS + [
    f"LayerNorm({DIM})", f"Linear({DIM} -> {VOCAB})"]


def _tokens(seed, shape, vocab=VOCAB):
    return np.random.default_rng(seed).integers(0, vocab, size=shape).astype(np.int32)


@pytest.mark.exercise("Transformer", points=1)
@expect.concise_errors
def test_transformer_shape(ex, on_documented_parts):
    model = _new_transformer(ex, causal=False)
    graphdef, state = nnx.split(model)
    for shape in ((BATCH, SEQ), (1, MAX_LEN), (2, 1)):
        tokens = jax.ShapeDtypeStruct(shape, jnp.int32)
        call = f"model(tokens) with model = {TRANSFORMER_CALL.format(causal=False)}, int32 tokens of shape {shape}"
        out = jax.eval_shape(lambda s, t: nnx.merge(graphdef, s)(t), state, tokens)
        expect.shape(out, shape + (VOCAB,), call=call,
                     hint="one row of vocab_size logits per position; the positions are 0 .. length - 1 of THIS input, "
                          "whatever its length (up to max_len).")
        expect.dtype(out, jnp.float32, call=call, hint="keep the default float32 layers.")


@pytest.mark.exercise("Transformer", points=1, concept=True)
@expect.concise_errors
def test_transformer_layers(ex, on_documented_parts):
    model = _new_transformer(ex, causal=False)
    differences = _layer_differences(model, TRANSFORMER_LAYERS)
    expect.that(not differences, call=TRANSFORMER_CALL.format(causal=False),
                expected="the layers of the docstring: " + ", ".join(TRANSFORMER_LAYERS),
                returned="a model with " + "; ".join(differences),
                hint="a token table Embed(vocab_size, dim), a position table Embed(max_len, dim), one TransformerBlock, "
                     "a final LayerNorm(dim) and the head Linear(dim -> vocab_size).")


def _find_transformer_parts(model):
    """({role: module}, [roles not found]): the embeddings, final norm, head and block of a Transformer."""
    roles = {"token_embed": (nnx.Embed, lambda m: m.num_embeddings == VOCAB),
             "position_embed": (nnx.Embed, lambda m: m.num_embeddings == MAX_LEN),
             "head": (nnx.Linear, lambda m: (m.in_features, m.out_features) == (DIM, VOCAB))}
    modules = _modules(model)
    found = {}
    for role, (kind, fits) in roles.items():
        candidates = [m for m in modules if isinstance(m, kind) and fits(m)]
        if len(candidates) == 1:
            found[role] = candidates[0]
    blocks = [m for m in modules if m is not model and any(isinstance(c, nnx.MultiHeadAttention) for c in _modules(m))
              and not isinstance(m, nnx.MultiHeadAttention)]
    inside = {id(c) for b in blocks for c in _modules(b)}
    if len(blocks) >= 1:
        found["block"] = min(blocks, key=lambda b: len(_modules(b)))
        inside = {id(c) for c in _modules(found["block"])}
    norm = getattr(model, "norm", None)
    if not (isinstance(norm, nnx.LayerNorm) and id(norm) not in inside):
        outside = [m for m in modules if isinstance(m, nnx.LayerNorm) and id(m) not in inside]
        norm = outside[0] if len(outside) == 1 else None
    if norm is not None:
        found["norm"] = norm
    return found, [r for r in ("token_embed", "position_embed", "block", "norm", "head") if r not in found]


def _transformer_weights(seed):
    rng = np.random.default_rng(seed)

    def normal(shape, scale):
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    return {"token_embed": {"embedding": normal((VOCAB, DIM), 1.0)},
            "position_embed": {"embedding": normal((MAX_LEN, DIM), 1.0)},
            "norm": {"scale": 1.0 + normal((DIM,), 0.3), "bias": normal((DIM,), 0.3)},
            "head": {"kernel": normal((DIM, VOCAB), 1 / np.sqrt(DIM)), "bias": normal((VOCAB,), 0.3)}}


def _np_transformer_outside(tokens, w, inner, positions=True, final_norm=True, position_offset=0):
    """The docstring's model in float64 NumPy, with `inner` (a function of x) in place of the block."""
    x = w["token_embed"]["embedding"][tokens].astype(np.float64)
    if positions:
        length = tokens.shape[-1]
        x = x + w["position_embed"]["embedding"][position_offset:position_offset + length]
    x = np.asarray(inner(x), np.float64)
    if final_norm:
        x = _np_layer_norm(x, w["norm"]["scale"], w["norm"]["bias"])
    return x @ w["head"]["kernel"] + w["head"]["bias"]


def _transformer_case(ex, causal, seed=0):
    model = _new_transformer(ex, causal=causal, seed=seed)
    found, missing = _find_transformer_parts(model)
    expect.that(not missing, call=TRANSFORMER_CALL.format(causal=causal) + ", looking for its layers by type and size",
                expected="one each of the token Embed, the position Embed, the block, the final LayerNorm and the head",
                returned="no single layer for " + ", ".join(missing),
                hint="build the layers the docstring lists (test_transformer_layers compares them); this test sets "
                     "their weights to fixed values and checks the forward pass.")
    w = _transformer_weights(92)
    for role in ("token_embed", "position_embed", "norm", "head"):
        for name, value in w[role].items():
            getattr(found[role], name).set_value(jnp.asarray(value))
    return model, found, w


def _block_as_function(block, mask=None):
    """The model's block (the docstring's, in these tests), with the weights it holds, as a function of float64 x."""
    def run(x):
        x = np.asarray(x, np.float32)
        return np.asarray(_apply(block, x) if mask is None else _apply_masked(block, x, mask), np.float64)
    return run


@pytest.mark.exercise("Transformer", points=2)
@expect.concise_errors
def test_transformer_forward_fixed_weights(ex, on_documented_parts):
    model, found, w = _transformer_case(ex, causal=False)
    tokens = _tokens(93, (BATCH, SEQ))
    got = np.asarray(_apply(model, tokens))
    inner = _block_as_function(found["block"])
    want = _np_transformer_outside(tokens, w, inner)
    if _matches(got, want, 1e-4, 1e-4):
        return
    call = (f"model(tokens) with model = {TRANSFORMER_CALL.format(causal=False)}, the embeddings, the final "
            f"LayerNorm and the head set to fixed values by the test, tokens of shape ({BATCH}, {SEQ})")
    slips = [
        ("no position embedding: every position of the same token starts from the same vector, so the model can't "
         "tell positions apart. Add position_embed of 0, 1, ..., length - 1.",
         _np_transformer_outside(tokens, w, inner, positions=False)),
        ("the positions started at 1; they are 0, 1, ..., length - 1.",
         _np_transformer_outside(tokens, w, inner, position_offset=1) if SEQ + 1 <= MAX_LEN else None),
        ("no final LayerNorm before the head.", _np_transformer_outside(tokens, w, inner, final_norm=False)),
    ]
    probabilities = got.ndim == 3 and np.all(got >= -1e-6) and np.allclose(got.sum(-1), 1, atol=1e-3)
    hint = ("every row of the output is positive and sums to 1: a softmax at the end. Return the head's logits."
            if probabilities else _slip(got, slips, "token_embed(tokens) + position_embed(0 .. length - 1), then the "
                                                    "block, the final norm and the head.", 1e-4, 1e-4))
    expect.close(got, want.astype(np.float32), call=call + ", on the docstring's TransformerBlock",
                 rtol=1e-4, atol=1e-4, hint=hint)


def _earlier_changed(outputs, changed_from) -> float:
    a, b = (np.asarray(o, np.float64) for o in outputs)
    return float(np.max(np.abs(a[:, :changed_from] - b[:, :changed_from])))


def _causal_hint(ex, tokens):
    """What a causal model that leaks handed its block, read from its logits on fixed weights: no mask (the
    output of the block without one), the mask transposed, or something else (a neutral hint)."""
    neutral = ("the later tokens reached the earlier positions: with causal=True the block gets causal_mask(length) "
               "as its mask, True where key j <= query i.")
    model = _new_transformer(ex, causal=True)
    found, missing = _find_transformer_parts(model)
    if missing:
        return neutral
    w = _transformer_weights(92)
    for role in ("token_embed", "position_embed", "norm", "head"):
        for name, value in w[role].items():
            getattr(found[role], name).set_value(jnp.asarray(value))
    got = _or_none(lambda: np.asarray(_apply(model, tokens)))
    tril = np.tril(np.ones((SEQ, SEQ), bool))
    seen = [("with causal=True the logits are the model's without any mask: no mask reached the block. Build "
             "causal_mask(length) and hand it to the block as its mask.", None),
            ("the block got the causal mask transposed (True where key j >= query i): hand it causal_mask(length) "
             "as it is.", tril.T)]
    for hint, mask in seen:
        want = _or_none(lambda: _np_transformer_outside(tokens, w, _block_as_function(found["block"], mask)))
        if got is not None and want is not None and _matches(got, want, 1e-4, 1e-4):
            return hint
    return neutral


@pytest.mark.exercise("Transformer", points=2)
@expect.concise_errors
def test_transformer_causal(ex, on_documented_parts):
    tokens = _tokens(94, (BATCH, SEQ))
    later = tokens.copy()
    later[:, 3:] = (later[:, 3:] + 1 + np.arange(SEQ - 3)) % VOCAB  # positions 3.. change, 0..2 stay
    model = _new_transformer(ex, causal=True)
    outs = [np.asarray(_apply(model, t)) for t in (tokens, later)]
    leak = _earlier_changed(outs, 3)
    if leak <= 1e-5:
        open_model = _new_transformer(ex, causal=False)
        open_leak = _earlier_changed([np.asarray(_apply(open_model, t)) for t in (tokens, later)], 3)
        expect.that(open_leak > 1e-4, call=f"model(tokens) with model = {TRANSFORMER_CALL.format(causal=False)}, "
                                          "then again with tokens 3.. changed",
                    expected="the logits at positions 0..2 to change too: without the causal mask every position "
                             "attends to every other",
                    returned="the same logits at positions 0..2",
                    hint="with causal=False, build no mask (mask=None): each position may look at the whole sequence.")
        return
    # causal_mask and the block are the docstrings' here: the leak is in what the model handed the block
    expect.that(False, call=f"model(tokens) with model = {TRANSFORMER_CALL.format(causal=True)}, then again with "
                            "tokens 3.. changed, on the docstrings' causal_mask and TransformerBlock",
                expected="the same logits at positions 0..2: with causal=True, position i sees only tokens 0..i",
                returned=f"logits at positions 0..2 that changed by up to {leak:.3g}",
                hint=_causal_hint(ex, tokens))


# ---------------------------------------------------------------- training on the reversing task

TRAIN_STEPS, TRAIN_BATCH, TRAIN_LR, MIN_ACCURACY = 40, 32, 1e-2, 0.9
TRAIN_DIM, TRAIN_MLP = 16, 32  # seeds 0-5 of the reference reach 99-100% in 40 steps
TRAIN_CALL = (f"the tests' training run: Transformer({VOCAB}, {MAX_LEN}, dim={TRAIN_DIM}, num_heads={HEADS}, "
              f"mlp_dim={TRAIN_MLP}, causal=False, rngs=rngs) trained to reverse sequences of {SEQ} tokens, "
              f"{TRAIN_STEPS} Adam steps (lr {TRAIN_LR}) on batches of {TRAIN_BATCH}")
TX = optax.adam(TRAIN_LR)


@nnx.jit
def _train_step(model, optimizer, tokens, targets):
    def loss_fn(model):
        return optax.softmax_cross_entropy_with_integer_labels(model(tokens), targets).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


@nnx.jit
def _new_optimizer(model):
    return nnx.Optimizer(model, TX, wrt=nnx.Param)


def _reverse_batch(rng, n):
    tokens = rng.integers(0, VOCAB, size=(n, SEQ)).astype(np.int32)
    return tokens, tokens[:, ::-1].copy()


@pytest.mark.exercise("Transformer", points=3)
@expect.concise_errors
def test_transformer_learns_to_reverse(ex, on_documented_parts):
    model = _new_transformer(ex, causal=False, seed=1, dim=TRAIN_DIM, mlp=TRAIN_MLP)
    optimizer = _new_optimizer(model)
    rng = np.random.default_rng(0)
    losses = [_train_step(model, optimizer, *_reverse_batch(rng, TRAIN_BATCH)) for _ in range(TRAIN_STEPS)]
    losses = np.asarray(jax.device_get(losses))
    tokens, targets = _reverse_batch(np.random.default_rng(1), 256)
    accuracy = float(np.mean(np.argmax(np.asarray(_apply(model, tokens)), axis=-1) == targets))
    if accuracy >= MIN_ACCURACY:
        return
    same = np.asarray(_apply(model, np.full((1, SEQ), 3, np.int32)))[0]
    if np.allclose(same, same[:1], atol=1e-5):
        hint = ("on a sequence of one repeated token every position gave the same logits: the model can't tell "
                "positions apart, and reversing is all about positions. Add the position embedding.")
    elif not np.all(np.isfinite(losses)):
        hint = "the loss became NaN or infinite during training: look for a log or a division of something that can be 0."
    else:
        hint = ("the loss went from {:.3g} to {:.3g} (with the docstring's TransformerBlock inside): check the "
                "model's forward pass first (test_transformer_forward_fixed_weights).".format(losses[0], losses[-1]))
    raise expect.failure(TRAIN_CALL + ", then 256 new sequences",
                         f"at least {MIN_ACCURACY:.0%} of the tokens reversed right",
                         f"{accuracy:.1%} right", hint)
