"""Tests for lesson 09: control flow, state and scan.

Every exercise is called under jax.jit with its array and number arguments traced, as the README
says, so a Python `if`, `while` or `range` on a traced value fails here with a message that says so.
The expected values come from small NumPy versions written below in float64. The concept checks read
the traced program (jax.make_jaxpr): a cond where a choice is asked for, one scan where a loop over a
sequence is asked for, the same program size for any sequence length.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grader.learner import bounded_loops, expect, jax_errors, jaxprs
from grader.learner.shared.lesson09 import on_documented as _on_documented

# ---------------------------------------------------------------- helpers

# What a function can do eagerly and not under jit: a Python `if`/`while` on a traced value (a
# TracerBoolConversionError, a kind of ConcretizationTypeError), range() or an index of a traced
# value, NumPy on a traced value.
TRACER_ERRORS = (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError,
                 jax.errors.TracerArrayConversionError)


def _floats(seed, shape, scale=1.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def _tracer_failure(call, expected, err, fix):
    """The message for a tracer error under jit: what the code asked of a traced value, and the fix."""
    if isinstance(err, jax.errors.TracerBoolConversionError):
        seen = ("a Python `if` or `while` (or and/or, bool()) asked whether a traced value was true. While jit "
                "traces the function its arguments have a shape and a dtype but no values, so Python cannot "
                "branch or loop on them")
    elif isinstance(err, jax.errors.TracerIntegerConversionError):
        seen = ("range(), int() or a Python index was asked of a traced value. Under jit that number is not "
                "known while the function is traced, so Python cannot count with it")
    elif isinstance(err, jax.errors.TracerArrayConversionError):
        seen = "NumPy was handed a traced value; under jit only jax.numpy and jax.lax work on tracers"
    else:
        seen = jax_errors.explain(err) or "a traced value was used where a concrete Python value is needed"
        seen = seen.rstrip(".")
    first = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
    return expect.failure(call, expected, f"{type(err).__name__}: {first}", f"{seen}. {fix}")


def _under_jit(call, expected, fix, fn, *args, static_argnums=()):
    """jax.jit(fn)(*args), a tracer error told as what the code did (`fix`: the lax tool to use)."""
    __tracebackhide__ = True
    try:
        return jax.jit(fn, static_argnums=static_argnums)(*args)
    except TRACER_ERRORS as err:
        raise _tracer_failure(call, expected, err, fix) from None


_JITTED = {}


def _jitted(fn, static_argnums=()):
    """One jax.jit wrapper per function, so that tests sharing a function share its compiled program."""
    key = (fn, static_argnums)
    if key not in _JITTED:
        _JITTED[key] = jax.jit(fn, static_argnums=static_argnums)
    return _JITTED[key]


def _program(call, fn, *args, fix="", static_argnums=()):
    """The primitive names of jax.make_jaxpr(fn)(*args), with tracer errors told as in _under_jit."""
    __tracebackhide__ = True
    try:
        return jaxprs.op_names(jax.make_jaxpr(fn, static_argnums=static_argnums)(*args))
    except TRACER_ERRORS as err:
        raise _tracer_failure(call, "a program JAX can trace", err, fix) from None


def _matches(got, want, rtol=1e-5, atol=1e-6) -> bool:
    return expect.matches(got, want, rtol, atol)


_or_none = expect.or_none


def _pair(got, call, what):
    __tracebackhide__ = True
    expect.that(isinstance(got, (tuple, list)) and len(got) == 2, call=call, expected=f"a pair {what}",
                returned=expect.show(got), hint=f"return the two values as a tuple {what}.")
    return got


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------- clip_norm: lax.cond

def _np_clip_norm(g, max_norm):
    g = np.asarray(g, np.float64)
    norm = np.sqrt(np.sum(g ** 2))
    return g * (max_norm / norm) if norm > max_norm else g


CLIP_G = np.array([[3.0, 0.0, -1.0], [2.0, -3.0, 1.0]], np.float32) * np.float32(5.0 / np.sqrt(24.0))  # norm 5


def _clip_hint(got, g, max_norm, want):
    got = np.asarray(got, np.float64)
    g64 = np.asarray(g, np.float64)
    norm = np.sqrt(np.sum(g64 ** 2))
    if np.allclose(got, np.clip(g64, -max_norm, max_norm), rtol=1e-5, atol=1e-6):
        return ("each element was clipped to [-max_norm, max_norm] on its own: that changes the direction of g. "
                "Scale the whole array, by one factor, so that its norm becomes max_norm.")
    if norm <= max_norm and np.allclose(got, g64 * (max_norm / norm), rtol=1e-5, atol=1e-6):
        return (f"g's norm ({norm:.3g}) is below max_norm ({max_norm:g}), and it was scaled UP to max_norm: only a "
                "norm above max_norm is scaled; a smaller g comes back as it was.")
    if norm > max_norm and np.allclose(got, g64, rtol=1e-5, atol=1e-6):
        return (f"g came back unchanged although its norm ({norm:.3g}) is above max_norm ({max_norm:g}): the "
                "scaling branch was not taken.")
    if norm > max_norm and np.allclose(got, g64 * (norm / max_norm), rtol=1e-5, atol=1e-6):
        return "g was scaled by norm / max_norm, the inverse factor: the scaled g must have norm max_norm."
    return "the norm is over every element of g; above max_norm, g times max_norm / norm."


@pytest.mark.exercise("clip_norm", points=2)
def test_clip_norm(ex):
    clip = _jitted(ex.clip_norm)
    fix = "Make the choice inside the program with lax.cond(norm > max_norm, ...)."
    for max_norm in (2.0, 10.0):
        call = f"jax.jit(clip_norm)(g, {max_norm}) with g of shape (2, 3) and norm 5"
        want = _np_clip_norm(CLIP_G, max_norm).astype(np.float32)
        try:
            got = clip(CLIP_G, max_norm)
        except TRACER_ERRORS as err:
            raise _tracer_failure(call, expect.show(want), err, fix) from None
        expect.shape(got, (2, 3), call=call, hint="return an array shaped like g.")
        try:
            expect.close(got, want, call=call, rtol=1e-5, atol=1e-6)
        except AssertionError:
            expect.close(got, want, call=call, rtol=1e-5, atol=1e-6, hint=_clip_hint(got, CLIP_G, max_norm, want))


@pytest.mark.exercise("clip_norm", points=1, concept=True)
def test_clip_norm_chooses_with_cond(ex):
    call = "jax.make_jaxpr(clip_norm)(g, max_norm) with g of shape (2, 3)"
    ops = _program(call, ex.clip_norm, CLIP_G, 2.0, fix="Make the choice with lax.cond.")
    expect.that("cond" in ops, call=call, expected="a program that chooses one branch with a cond",
                returned=("a program with no cond: both results are computed and one is picked element by element "
                          "(select_n, from jnp.where)" if "select_n" in ops else "a program with no cond"),
                hint="the exercise is lax.cond: one scalar condition (norm > max_norm) picks which branch runs.")


# ---------------------------------------------------------------- activate: lax.switch

ACT_X = np.array([-2.0, -0.5, 0.0, 0.7, 3.0], np.float32)
ACTIVATIONS = {"ReLU": lambda x: np.maximum(x, 0.0), "tanh": np.tanh, "the sigmoid": _sigmoid}


@pytest.mark.exercise("activate", points=2)
def test_activate(ex):
    act = _jitted(ex.activate)
    names = list(ACTIVATIONS)
    for kind, name in enumerate(names):
        call = f"jax.jit(activate)(x, {kind}) with x = {expect.show(ACT_X)} (kind traced)"
        want = ACTIVATIONS[name](ACT_X.astype(np.float64)).astype(np.float32)
        try:
            got = act(ACT_X, np.int32(kind))
        except TRACER_ERRORS as err:
            raise _tracer_failure(call, expect.show(want), err,
                                  "Choose by a traced index with lax.switch(kind, [f0, f1, f2], x).") from None
        seen = [other for other in names if _matches(got, ACTIVATIONS[other](ACT_X.astype(np.float64)))]
        hint = (f"kind {kind} gave {seen[0]}, which is kind {names.index(seen[0])}: the order is ReLU, tanh, sigmoid."
                if seen and seen[0] != name else f"kind {kind} is {name}.")
        expect.close(got, want, call=call, rtol=1e-5, atol=1e-6, hint=hint)


@pytest.mark.exercise("activate", points=1, concept=True)
def test_activate_chooses_in_the_program(ex):
    call = "jax.make_jaxpr(activate)(x, kind) with kind an int32 scalar"
    ops = _program(call, ex.activate, ACT_X, np.int32(1), fix="Choose with lax.switch.")
    expect.that("cond" in ops, call=call, expected="a program that runs only the chosen activation (a cond)",
                returned=("a program with no cond: every activation is computed and one result picked (select_n)"
                          if "select_n" in ops else "a program with no cond"),
                hint="lax.switch(index, branches, x) becomes one cond in the program: only the chosen branch runs.")


# ---------------------------------------------------------------- newton_sqrt: lax.while_loop

def _np_newton(a, tol, absolute=False, at_least_one=False, start=None):
    """(root, updates) of the docstring's loop in float32, as the program computes it; the flags compute
    common mistakes (an absolute tolerance; an update before the first check; a start at `a` or at 1 in
    place of max(a, 1))."""
    a, tol, two = np.float32(a), np.float32(tol), np.float32(2.0)
    x, steps = {None: max(a, np.float32(1.0)), "a": a, "1": np.float32(1.0)}[start], 0
    limit = tol if absolute else tol * a
    while (at_least_one and steps == 0) or (abs(x * x - a) > limit and steps < 100):
        x, steps = (x + a / x) / two, steps + 1
    return x, steps


# The last two start within a relative tolerance of 0.1 on one side of 1 only: for a = 0.905 the start x = 1
# needs an update where x = a would not, for a = 1.105 the start x = a needs one where x = 1 would not.
NEWTON_CASES = [(2.0, 1e-3), (0.01, 1e-3), (7.0, 1e-3), (7.0, 1e-5), (1e4, 1e-3), (1e4, 1e-5), (0.01, 1e-5),
                (1.0, 1e-5), (0.905, 0.1), (1.105, 0.1)]
NEWTON_CALL = "jax.jit(newton_sqrt)(a, tol) for (a, tol) in " + ", ".join(f"({a:g}, {t:g})" for a, t in NEWTON_CASES)


def _newton_runs(ex):
    newton = _jitted(ex.newton_sqrt)
    out = []
    for a, tol in NEWTON_CASES:
        call = f"jax.jit(newton_sqrt)({a:g}, {tol:g}) (both traced)"
        try:
            got = newton(np.float32(a), np.float32(tol))
        except TRACER_ERRORS as err:
            raise _tracer_failure(call, "a pair (root, steps)", err,
                                  "Loop on the values inside the program with lax.while_loop(cond_fn, body_fn, "
                                  "(x, steps)).") from None
        out.append(_pair(got, call, "(root, steps)"))
    return out


@pytest.mark.exercise("newton_sqrt", points=2)
def test_newton_sqrt(ex):
    for (a, tol), (root, _) in zip(NEWTON_CASES, _newton_runs(ex)):
        call = f"jax.jit(newton_sqrt)({a:g}, {tol:g}): the root"
        expect.shape(root, (), call=call, hint="the root is one float32 number.")
        expect.dtype(root, np.float32, call=call, hint="the root is float32, like a.")
        error = abs(float(root) ** 2 - a)
        expect.that(error <= 2 * tol * a, call=call, expected=f"x with |x * x - a| <= tol * a (about {np.sqrt(a):.6g})",
                    returned=f"{float(root):.7g}, with |x * x - a| = {error:.3g}",
                    hint="Newton's update for the square root is x = (x + a / x) / 2, repeated until |x * x - a| "
                         "<= tol * a.")


@pytest.mark.exercise("newton_sqrt", points=2)
def test_newton_sqrt_stops_at_the_tolerance(ex):
    runs = _newton_runs(ex)
    steps = [s for _, s in runs]
    want = [_np_newton(a, tol)[1] for a, tol in NEWTON_CASES]
    expect.dtype(steps[0], np.int32, call=NEWTON_CALL + ": steps",
                 hint="steps counts updates: an int32 scalar (jnp.int32(0) to start).")
    got = [int(s) for s in steps]
    if got != want:
        if len(set(got)) == 1:
            hint = (f"every call made {got[0]} updates, whatever a and tol: the loop ran a fixed number of times. "
                    "lax.while_loop stops when the condition (here |x * x - a| > tol * a) turns false.")
        elif got == [_np_newton(a, tol, absolute=True)[1] for a, tol in NEWTON_CASES]:
            hint = ("these counts stop at |x * x - a| <= tol, an absolute tolerance: the docstring's is relative, "
                    "tol * a.")
        elif got == [_np_newton(a, tol, at_least_one=True)[1] for a, tol in NEWTON_CASES]:
            hint = ("a = 1 starts exact (x = 1) yet one update was made: the condition must be checked before every "
                    "update, the first one too, as lax.while_loop does.")
        elif got in ([_np_newton(a, tol, start=start)[1] for a, tol in NEWTON_CASES] for start in ("a", "1")):
            start = "a" if got == [_np_newton(a, tol, start="a")[1] for a, tol in NEWTON_CASES] else "1"
            case = 8 if start == "a" else 9
            a, tol = NEWTON_CASES[case]
            hint = (f"these are the counts of a loop that starts at x = {start}: with a = {a:g} and tol = {tol:g} it "
                    f"made {got[case]} updates where the docstring's start, x = max(a, 1) = {max(a, 1.0):g}, needs "
                    f"{want[case]}. Start at max(a, 1).")
        else:
            hint = "count one per update made while |x * x - a| > tol * a, starting from x = max(a, 1) and 0 steps."
        raise expect.failure(NEWTON_CALL + ": steps", str(want), str(got), hint)
    for (a, tol), (root, _) in zip(NEWTON_CASES, runs):
        expect.close(root, np.float32(_np_newton(a, tol)[0]), call=f"jax.jit(newton_sqrt)({a:g}, {tol:g}): the root",
                     rtol=2e-6, atol=0.0,
                     hint="the right number of updates, but not the docstring's iterates: from x = max(a, 1), each "
                          "update is x = (x + a / x) / 2.")


NEWTON_CAP = 100  # MAX_NEWTON_STEPS in the docstring
NEWTON_UNREACHABLE = (2.0, 1e-20)  # no float32 x has x * x within 2e-20 of 2 (the nearest squares are 2 +- 2.4e-7)


@pytest.mark.exercise("newton_sqrt", points=1)
def test_newton_sqrt_stops_at_the_cap(ex):
    a, tol = NEWTON_UNREACHABLE
    call = (f"jax.jit(newton_sqrt)({a:g}, {tol:g}): a tolerance no float32 x can meet (x * x is never within "
            f"{tol * a:g} of {a:g}), so only the cap of MAX_NEWTON_STEPS = {NEWTON_CAP} updates can stop the loop")
    expected = f"steps = {NEWTON_CAP}: the loop stops at the cap"
    args = (np.float32(a), np.float32(tol))
    turns = 4 * NEWTON_CAP
    try:
        bounded_loops.run_bounded(ex.newton_sqrt, args, turns)
    except TRACER_ERRORS as err:
        raise _tracer_failure(call, expected, err, "Loop on the values inside the program with lax.while_loop(cond_fn, "
                              "body_fn, (x, steps)).") from None
    except bounded_loops.LoopRanOn:
        raise expect.failure(call, expected, f"a loop still going after {turns} updates (run here one operation at a "
                                             "time, with a limit, since under jit it would never stop)",
                             "the loop must stop at the cap even when the tolerance is never met: it goes on only "
                             "while |x * x - a| > tol * a AND fewer than MAX_NEWTON_STEPS updates were made, so "
                             "the condition needs both parts.") from None
    root, steps = _pair(_jitted(ex.newton_sqrt)(*args), call, "(root, steps)")
    got = int(np.asarray(steps))
    if got == NEWTON_CAP + 1:
        hint = (f"one update too many: the loop went on with steps = {NEWTON_CAP} already made. The cap counts "
                f"updates MADE, so the loop must stop at the cap, once steps reaches MAX_NEWTON_STEPS: it goes on "
                "only while FEWER than MAX_NEWTON_STEPS updates were made.")
    else:
        hint = (f"the loop must stop at the cap: here the tolerance is never met, so it makes exactly "
                f"MAX_NEWTON_STEPS = {NEWTON_CAP} updates, no more and no fewer, and returns steps = {NEWTON_CAP}.")
    expect.that(got == NEWTON_CAP, call=call, expected=expected, returned=f"steps = {got} (root {float(root):.7g})",
                hint=hint)


# ---------------------------------------------------------------- power_iteration: lax.fori_loop

POWER_M = _floats(60, (4, 4)) + np.diag([3.0, 0.0, 0.0, 0.0]).astype(np.float32)
POWER_V = np.array([0.5, 1.0, -1.0, 2.0], np.float32)


def _np_power(m, v, n):
    v = np.asarray(v, np.float64)
    for _ in range(n):
        w = np.asarray(m, np.float64) @ v
        v = w / np.linalg.norm(w)
    return v


@pytest.mark.exercise("power_iteration", points=2)
def test_power_iteration(ex):
    power = _jitted(ex.power_iteration)
    for n in (0, 1, 5):
        call = f"jax.jit(power_iteration)(m, v, {n}) with m of shape (4, 4), v = {expect.show(POWER_V)} (n traced)"
        want = _np_power(POWER_M, POWER_V, n).astype(np.float32)
        try:
            got = power(POWER_M, POWER_V, np.int32(n))
        except TRACER_ERRORS as err:
            raise _tracer_failure(call, expect.show(want), err,
                                  "A loop whose trip count is traced is lax.fori_loop(0, n, body, v).") from None
        expect.shape(got, (4,), call=call, hint="return the vector after n steps, shaped like v.")
        if _matches(got, _np_power(POWER_M, POWER_V, n + 1), rtol=1e-4, atol=1e-5):
            hint = f"this is the vector after {n + 1} steps, one too many: fori_loop(0, n, ...) runs n times."
        elif n and _matches(got, _np_power(POWER_M, POWER_V, n - 1), rtol=1e-4, atol=1e-5):
            hint = f"this is the vector after {n - 1} steps, one too few."
        elif n == 0 and _matches(got, POWER_V / np.linalg.norm(POWER_V)):
            hint = "with n = 0 no step runs, so v comes back as given (not normalized)."
        else:
            hint = "each step: w = m @ v, then v = w divided by its Euclidean norm."
        expect.close(got, want, call=call, rtol=1e-4, atol=1e-5, hint=hint)


# ---------------------------------------------------------------- state: init_stats, update_stats

STATS_KEYS = ("count", "m2", "mean")


def _np_update(state, x):
    n = int(state["count"]) + 1
    mean = np.asarray(state["mean"], np.float64)
    x = np.asarray(x, np.float64)
    delta = x - mean
    new_mean = mean + delta / n
    return {"count": np.int32(n), "mean": new_mean.astype(np.float32),
            "m2": (np.asarray(state["m2"], np.float64) + delta * (x - new_mean)).astype(np.float32)}


def _zero_state(d):
    return {"count": np.int32(0), "mean": np.zeros(d, np.float32), "m2": np.zeros(d, np.float32)}


def _is_state(got):
    return isinstance(got, dict) and tuple(sorted(got)) == STATS_KEYS


@pytest.mark.exercise("init_stats", points=1)
def test_init_stats(ex):
    call = "init_stats(3)"
    got = ex.init_stats(3)
    expect.that(_is_state(got), call=call, expected="a dict with the keys 'count', 'mean' and 'm2'",
                returned=expect.show(got), hint="the state is a dict of three arrays, named as the docstring says.")
    for key, shape, dtype in (("count", (), np.int32), ("mean", (3,), np.float32), ("m2", (3,), np.float32)):
        value = got[key]
        expect.that(hasattr(value, "dtype") and hasattr(value, "shape"), call=call + f"[{key!r}]",
                    expected=f"a {np.dtype(dtype)} array of shape {shape}", returned=f"{type(value).__name__} {value!r}",
                    hint="give arrays (jnp.zeros(..., dtype)), so the state keeps the same types from step to step.")
        expect.shape(value, shape, call=call + f"[{key!r}]", hint=f"{key} has shape {shape} for d = 3.")
        expect.dtype(value, dtype, call=call + f"[{key!r}]",
                     hint=f"{key} is {np.dtype(dtype)}: a loop's state must come back with the types it went in with.")
        expect.close(value, np.zeros(shape, dtype), call=call + f"[{key!r}]", hint="the empty state is all zeros.")


def _update_hint(got, state, x, want):
    if not _is_state(got):
        return "return a new dict with the same three keys."
    n = int(state["count"])
    mean, x64 = np.asarray(state["mean"], np.float64), np.asarray(x, np.float64)
    if _matches(got["mean"], mean + (x64 - mean) / max(n, 1), rtol=1e-5, atol=1e-6):
        return f"the mean moved by delta / {n}, the OLD count: divide by the count including x ({n + 1})."
    if _matches(got["mean"], want["mean"]) and _matches(got["m2"], np.asarray(state["m2"]) + (x64 - mean) ** 2):
        return "m2 grew by delta * delta, with the old mean twice: Welford's update uses delta * (x - new mean)."
    if _matches(got["mean"], want["mean"]) and _matches(got["m2"], want["m2"]):
        return "mean and m2 are right; count goes up by one and stays int32."
    return "the docstring's update: n = count + 1, delta = x - mean, mean += delta / n, m2 += delta * (x - new mean)."


@pytest.mark.exercise("update_stats", points=2)
def test_update_stats(ex):
    state = {"count": np.int32(3), "mean": np.array([1.0, -2.0, 0.5], np.float32),
             "m2": np.array([4.0, 0.5, 2.0], np.float32)}
    kept = {k: np.array(v) for k, v in state.items()}
    x = np.array([3.0, -1.0, -0.5], np.float32)
    call = "update_stats(state, x) with state = {'count': 3, 'mean': [1. -2. 0.5], 'm2': [4. 0.5 2.]}, x = [3. -1. -0.5]"
    given = dict(state)
    got = ex.update_stats(given, x)
    expect.that(set(given) == set(kept) and all(np.array_equal(np.asarray(given[k]), kept[k]) for k in kept),
                call=call, expected="the caller's state dict left as it was",
                returned=f"the caller's dict changed to {expect.show(given)}",
                hint="the function wrote into the state it was given: build and return a NEW dict; the caller's "
                     "state is the old state, and a jitted or scanned step can't change its inputs anyway.")
    want = _np_update(state, x)
    expect.that(_is_state(got), call=call, expected="a dict with the keys 'count', 'mean' and 'm2'",
                returned=expect.show(got), hint="return the new state: a dict with the same three keys.")
    expect.close(got, want, call=call, rtol=1e-5, atol=1e-6, hint=_update_hint(got, state, x, want))


@pytest.mark.exercise("update_stats", points=1)
def test_update_stats_passes_state_explicitly(ex):
    traces = []

    def counted(state, x):
        traces.append(1)
        return ex.update_stats(state, x)

    step = jax.jit(counted)
    xs = _floats(61, (4, 2))
    state = _zero_state(2)
    call = "state = jax.jit(update_stats)(state, x) four times, from a zero state, each call given the last one's state"
    counts = []
    for x in xs:
        state = step(state, x)
        expect.that(_is_state(state), call=call, expected="the state dict", returned=expect.show(state),
                    hint="return the new state: a dict with the same three keys.")
        counts.append(np.asarray(state["count"]))
    count = counts[-1]
    if all(int(c) == 0 for c in counts):
        hint = "the count stayed 0: each update adds one observation, so count comes back one larger."
    elif len({int(c) for c in counts}) == 1:
        # Two plain calls on the same state: a pure update gives the same count twice.
        eager = _or_none(lambda: [int(np.asarray(ex.update_stats(_zero_state(2), xs[0])["count"])) for _ in range(2)])
        if eager is not None and eager[0] != eager[1]:
            hint = (f"the count was {int(count)} after every jitted call, and two plain calls on the same zero state "
                    f"gave counts {eager[0]} and {eager[1]}: the count comes from a Python value kept outside the "
                    "state (a global or an attribute), which jit read once, while tracing. Everything the step "
                    "remembers goes in and out through the state.")
        else:
            hint = (f"the count was {int(count)} after every call, whatever the count it was given: the new count is "
                    "the given state's count + 1.")
    else:
        hint = "count goes up by one per call, from the count it is given, and comes back int32."
    expect.that(count.dtype == np.int32 and [int(c) for c in counts] == [1, 2, 3, 4], call=call + ": state['count']",
                expected="1, 2, 3, 4 (int32)", returned=", ".join(f"{c}" for c in counts) + f" ({count.dtype})",
                hint=hint)
    expect.that(len(traces) == 1, call=call, expected="one trace: the state comes back with the types it went in with",
                returned=f"update_stats traced {len(traces)} times in 4 calls",
                hint="the returned state's types differ from the ones it was given (a dtype or a weak type changed, "
                     "say an int32 count coming back float32), so every call compiles again.")


@pytest.mark.exercise("update_stats", points=1)
def test_update_stats_in_a_scan(ex):
    xs = _floats(62, (16, 3), scale=2.0) + np.float32(5.0)
    call = "lax.scan(lambda s, x: (update_stats(s, x), None), zero_state, xs) with xs of shape (16, 3); then m2 / count"
    try:
        state, _ = jax.jit(lambda s, xs: jax.lax.scan(lambda c, x: (ex.update_stats(c, x), None), s, xs))(
            _zero_state(3), xs)
    except TypeError as err:
        if "carry" not in str(err):
            raise
        raise expect.failure(call, "the state carried through 16 steps", f"TypeError: {str(err).splitlines()[0][:200]}",
                             "scan needs the state to come back from each step with the structure, shapes and dtypes "
                             "it went in with (the count int32, mean and m2 float32 of shape (d,)).") from None
    mean, var = ex.mean_and_var(state)
    want = (np.mean(xs.astype(np.float64), axis=0), np.var(xs.astype(np.float64), axis=0))
    expect.close((mean, var), tuple(w.astype(np.float32) for w in want), call=call, rtol=1e-4, atol=1e-4,
                 hint="after every observation the mean is the mean of those seen so far and m2 / count their "
                      "variance: check the update against Welford's, step by step.")


# ---------------------------------------------------------------- cumsum and ema: lax.scan

def _scans(ops):
    return ops.count("scan")


@pytest.mark.exercise("cumsum", points=2)
def test_cumsum(ex):
    xs = _floats(63, (5, 3))
    want = np.cumsum(xs.astype(np.float64), axis=0).astype(np.float32)
    call = "jax.jit(cumsum)(xs) with xs of shape (5, 3)"
    got = _under_jit(call, expect.show(want), "Loop over the sequence with lax.scan.", ex.cumsum, xs)
    expect.shape(got, (5, 3), call=call, hint="one running total per step, shaped like xs.")
    exclusive = np.concatenate([np.zeros((1, 3)), want[:-1]])
    if _matches(got, exclusive):
        hint = "out[t] holds the total BEFORE adding xs[t]: output the carry after the addition."
    elif _matches(got, np.cumsum(xs[::-1].astype(np.float64), axis=0)[::-1]):
        hint = "these totals run from the end backwards: out[t] is xs[0] + ... + xs[t]."
    else:
        hint = "carry the total; each step adds xs[t] and outputs the new total."
    expect.close(got, want, call=call, rtol=1e-5, atol=1e-5, hint=hint)


@pytest.mark.exercise("cumsum", points=1, concept=True)
def test_cumsum_uses_scan(ex):
    sizes = {}
    for length in (3, 9):
        call = f"jax.make_jaxpr(cumsum)(xs) with xs of shape ({length}, 2)"
        ops = _program(call, ex.cumsum, np.zeros((length, 2), np.float32), fix="Loop with lax.scan.")
        expect.that(_scans(ops) >= 1 and "cumsum" not in ops, call=call, expected="a program with a scan",
                    returned=("jnp.cumsum's own primitive" if "cumsum" in ops else "a program with no scan"),
                    hint="the exercise rebuilds the running total with lax.scan, carrying the total.")
        sizes[length] = len(ops)
    expect.that(sizes[3] == sizes[9], call="jax.make_jaxpr(cumsum) for 3 steps, then for 9",
                expected="the same program for any length",
                returned=f"{sizes[3]} operations for 3 steps, {sizes[9]} for 9", hint="one scan, no Python loop.")


def _np_ema(xs, alpha, init, swap=False):
    m, out = np.asarray(init, np.float64), []
    for x in np.asarray(xs, np.float64):
        m = (1 - alpha) * m + alpha * x if swap else alpha * m + (1 - alpha) * x
        out.append(m)
    return np.stack(out)


EMA_XS = _floats(64, (6, 2))
EMA_INIT = np.array([1.0, -2.0], np.float32)


@pytest.mark.exercise("ema", points=2)
def test_ema(ex):
    ema = _jitted(ex.ema)
    for alpha in (0.9, 0.5):
        call = f"jax.jit(ema)(xs, {alpha}, init) with xs of shape (6, 2), init = [1. -2.] (alpha traced)"
        want = _np_ema(EMA_XS, alpha, EMA_INIT)
        try:
            got = ema(EMA_XS, np.float32(alpha), EMA_INIT)
        except TRACER_ERRORS as err:
            raise _tracer_failure(call, expect.show(want.astype(np.float32)), err, "Loop with lax.scan.") from None
        expect.shape(got, (6, 2), call=call, hint="one average per step, shaped like xs.")
        before = np.concatenate([EMA_INIT[None].astype(np.float64), want[:-1]])
        if _matches(got, before, rtol=1e-5, atol=1e-5):
            hint = "out[t] is the average BEFORE step t took xs[t] in: output m after the update."
        elif _matches(got, _np_ema(EMA_XS, alpha, EMA_INIT, swap=True), rtol=1e-5, atol=1e-5):
            hint = "alpha weighted the new x and 1 - alpha the old average: it is the other way round."
        elif _matches(got, _np_ema(EMA_XS, alpha, EMA_XS[0]), rtol=1e-5, atol=1e-5):
            hint = "the average started from xs[0]; it starts from init."
        else:
            hint = ("each step keeps the share alpha of the old average and takes 1 - alpha of xs[t], starting from "
                    "init; out[t] is the average after step t.")
        expect.close(got, want.astype(np.float32), call=call, rtol=1e-5, atol=1e-5, hint=hint)


@pytest.mark.exercise("ema", points=1, concept=True)
def test_ema_uses_scan(ex):
    sizes = {}
    for length in (3, 9):
        call = f"jax.make_jaxpr(ema)(xs, alpha, init) with xs of shape ({length}, 2)"
        ops = _program(call, ex.ema, np.zeros((length, 2), np.float32), np.float32(0.5), EMA_INIT,
                       fix="Loop with lax.scan.")
        expect.that(_scans(ops) >= 1, call=call, expected="a program with a scan", returned="a program with no scan",
                    hint="carry the average through a lax.scan over the steps.")
        sizes[length] = len(ops)
    expect.that(sizes[3] == sizes[9], call="jax.make_jaxpr(ema) for 3 steps, then for 9",
                expected="the same program for any length",
                returned=f"{sizes[3]} operations for 3 steps, {sizes[9]} for 9", hint="one scan, no Python loop.")


# ---------------------------------------------------------------- the cells

def _gate(seed, d_in, d_h, scale=0.7):
    return {"wx": _floats(seed, (d_in, d_h), scale), "wh": _floats(seed + 1, (d_h, d_h), scale),
            "b": _floats(seed + 2, (d_h,), 0.3)}


def _np_elman(p, h, x):
    f = lambda a: np.asarray(a, np.float64)  # noqa: E731
    return np.tanh(f(x) @ f(p["wx"]) + f(h) @ f(p["wh"]) + f(p["b"]))


def _np_gru(p, h, x, mistake=None):
    f = lambda a: np.asarray(a, np.float64)  # noqa: E731
    h, x = f(h), f(x)

    def pre(gate):
        return f(x) @ f(p[gate]["wx"]) + f(p[gate]["b"])

    z = _sigmoid(pre("z") + h @ f(p["z"]["wh"]))
    r = _sigmoid(pre("r") + h @ f(p["r"]["wh"]))
    if mistake == "reset_before":
        n = np.tanh(pre("n") + (r * h) @ f(p["n"]["wh"]))
    elif mistake == "no_reset":
        n = np.tanh(pre("n") + h @ f(p["n"]["wh"]))
    else:
        n = np.tanh(pre("n") + r * (h @ f(p["n"]["wh"])))
    if mistake == "swapped_z":
        return z * n + (1 - z) * h
    return (1 - z) * n + z * h


GRU_MISTAKES = {
    "swapped_z": "z and 1 - z are swapped: z is the share of the OLD state h that the new state keeps, and 1 - z "
                 "the share of the candidate n.",
    "reset_before": "your code scales h by r BEFORE the matmul with n's wh, as some GRU write-ups do; in this lesson's "
                    "GRU, as the docstring writes it, r scales the product instead: r multiplies the result of h "
                    "times n's wh, after the matmul.",
    "no_reset": "the candidate n ignores the reset gate r: in the docstring's candidate, r multiplies the hidden "
                "state's term (h times n's wh) inside the tanh.",
}


D_IN, D_H = 3, 4
ELMAN = _gate(70, D_IN, D_H)
GRU = {"z": _gate(73, D_IN, D_H), "r": _gate(76, D_IN, D_H), "n": _gate(79, D_IN, D_H)}
H1, X1 = _floats(82, (D_H,)), _floats(83, (D_IN,))
HB, XB = _floats(84, (5, D_H)), _floats(85, (5, D_IN))


@pytest.mark.exercise("elman_cell", points=2)
def test_elman_cell(ex):
    cell = _jitted(ex.elman_cell)
    for h, x, what in ((H1, X1, "h of shape (4,), x of shape (3,)"), (HB, XB, "a batch: h (5, 4), x (5, 3)")):
        call = f"jax.jit(elman_cell)(params, h, x) with wx (3, 4), wh (4, 4), b (4,), {what}"
        got = cell(ELMAN, h, x)
        want = _np_elman(ELMAN, h, x)
        expect.shape(got, h.shape, call=call, hint="the new hidden state is shaped like h.")
        if _matches(got, np.arctanh(np.clip(want, -0.999999, 0.999999)), rtol=1e-4, atol=1e-4):
            hint = "no tanh: the new state is tanh of x @ wx + h @ wh + b."
        elif _matches(got, _np_elman({**ELMAN, "wh": ELMAN["wh"].T}, h, x), rtol=1e-4, atol=1e-5):
            hint = "wh was used transposed: h @ wh, with wh of shape (d_h, d_h) as given."
        else:
            hint = "tanh(x @ wx + h @ wh + b); written with @ it works for one example and for a batch."
        expect.close(got, want.astype(np.float32), call=call, rtol=1e-4, atol=1e-5, hint=hint)


def _gru_hint(got, h, x, default):
    for mistake, text in GRU_MISTAKES.items():
        if _matches(got, _np_gru(GRU, h, x, mistake), rtol=1e-4, atol=1e-5):
            return text
    return default


@pytest.mark.exercise("gru_cell", points=2)
def test_gru_cell(ex):
    cell = _jitted(ex.gru_cell)
    for h, x, what in ((H1, X1, "h of shape (4,), x of shape (3,)"), (HB, XB, "a batch: h (5, 4), x (5, 3)")):
        call = f"jax.jit(gru_cell)(params, h, x) with gates z, r, n of wx (3, 4), wh (4, 4), b (4,), {what}"
        got = cell(GRU, h, x)
        expect.shape(got, h.shape, call=call, hint="the new hidden state is shaped like h.")
        expect.close(got, _np_gru(GRU, h, x).astype(np.float32), call=call, rtol=1e-4, atol=1e-5,
                     hint=_gru_hint(got, h, x, "follow the docstring's four lines: z and r with the sigmoid, n with "
                                               "tanh, then h' = (1 - z) * n + z * h."))


@pytest.mark.exercise("gru_cell", points=1)
def test_gru_cell_over_a_sequence(ex):
    xs = _floats(86, (6, 2, D_IN))
    h0 = np.zeros((2, D_H), np.float32)
    call = "lax.scan(lambda h, x: (gru_cell(params, h, x),) * 2, h0, xs) over 6 steps, a batch of 2"
    try:
        _, hs = jax.jit(lambda p, h, xs: jax.lax.scan(lambda c, x: (ex.gru_cell(p, c, x),) * 2, h, xs))(GRU, h0, xs)
    except TypeError as err:
        if "carry" not in str(err):
            raise
        raise expect.failure(call, "6 hidden states", f"TypeError: {str(err).splitlines()[0][:200]}",
                             "the new state must have h's shape and dtype, so that scan can carry it.") from None
    want, h = [], h0
    for x in xs:
        h = _np_gru(GRU, h, x)
        want.append(h)
    expect.close(hs, np.stack(want).astype(np.float32), call=call, rtol=1e-4, atol=1e-5,
                 hint="step by step this must equal a Python loop over the cell: check the single step first.")


# ---------------------------------------------------------------- run_rnn: one scan, gradients through time

def _test_cell(p, h, x):
    """The tests' own cell (an Elman cell with a leak), so run_rnn is judged on its own."""
    return 0.5 * h + 0.5 * jnp.tanh(x @ p["wx"] + h @ p["wh"] + p["b"])


def _np_test_cell(p, h, x):
    return 0.5 * np.asarray(h, np.float64) + 0.5 * _np_elman(p, h, x)


RUN_XS = _floats(90, (7, 2, D_IN))
RUN_H0 = _floats(91, (2, D_H), 0.5)


def _np_run(p, h0, xs):
    h, hs = np.asarray(h0, np.float64), []
    for x in xs:
        h = _np_test_cell(p, h, x)
        hs.append(h)
    return h, np.stack(hs)


@pytest.mark.exercise("run_rnn", points=2)
def test_run_rnn(ex):
    call = "jax.jit(run_rnn, static_argnums=0)(cell, params, h0, xs) with xs of shape (7, 2, 3), h0 of shape (2, 4)"
    got = _under_jit(call, "a pair (h_last, hs)", "Loop over time with lax.scan.", ex.run_rnn, _test_cell, ELMAN,
                     RUN_H0, RUN_XS, static_argnums=(0,))
    got = _pair(got, call, "(h_last, hs)")
    h_last, hs = _np_run(ELMAN, RUN_H0, RUN_XS)
    if np.shape(got[0]) == hs.shape and np.shape(got[1]) == h_last.shape:
        hint = "the pair came back as (hs, h_last): return (h_last, hs), as lax.scan returns (carry, outputs)."
    elif _matches(got[1], np.concatenate([RUN_H0[None], hs[:-1]]), rtol=1e-4, atol=1e-5):
        hint = "hs[t] is the state BEFORE reading xs[t]: output the new state, after the cell."
    elif _matches(got[1], _np_run(ELMAN, RUN_H0, RUN_XS[::-1])[1], rtol=1e-4, atol=1e-5) or _matches(
            got[1], _np_run(ELMAN, RUN_H0, RUN_XS[::-1])[1][::-1], rtol=1e-4, atol=1e-5):
        hint = "the sequence was read from the end: xs[0] comes first."
    else:
        hint = "each step calls cell(params, h, xs[t]), carries the new h, and outputs it."
    expect.close((got[0], got[1]), (h_last.astype(np.float32), hs.astype(np.float32)), call=call, rtol=1e-4, atol=1e-5,
                 hint=hint)


@pytest.mark.exercise("run_rnn", points=2, concept=True)
def test_run_rnn_is_one_scan(ex):
    sizes = {}
    for length in (3, 9):
        call = f"jax.make_jaxpr(run_rnn, static_argnums=0)(cell, params, h0, xs) with xs of shape ({length}, 2, 3)"
        ops = _program(call, ex.run_rnn, _test_cell, ELMAN, RUN_H0, np.zeros((length, 2, D_IN), np.float32),
                       fix="Loop over time with lax.scan.", static_argnums=(0,))
        scans = _scans(ops)
        expect.that(scans == 1, call=call, expected="exactly one scan",
                    returned=f"{scans} scans" + (f", {ops.count('tanh')} copies of the cell's tanh" if not scans else ""),
                    hint=("no scan: a Python loop over time unrolls into one copy of the cell per step, so the "
                          "program grows with the sequence. lax.scan traces the cell once." if not scans else
                          "one lax.scan over time, with the hidden state as its carry."))
        sizes[length] = len(ops)
    expect.that(sizes[3] == sizes[9], call="jax.make_jaxpr(run_rnn) for 3 steps, then for 9",
                expected="the same program for any length",
                returned=f"{sizes[3]} operations for 3 steps, {sizes[9]} for 9",
                hint="the program grows with the sequence: something runs once per step outside the scan.")


def _unrolled(p, h0, xs):
    """run_rnn as a plain Python loop (the reference the gradients are compared with)."""
    h, hs = h0, []
    for t in range(xs.shape[0]):
        h = _test_cell(p, h, xs[t])
        hs.append(h)
    return h, jnp.stack(hs)


GRAD_WEIGHTS = _floats(92, (2, D_H))


@pytest.mark.exercise("run_rnn", points=2)
def test_run_rnn_gradients_through_time(ex):
    def loss(run):
        def f(p, h0):
            out = run(_test_cell, p, h0, RUN_XS)
            h_last = out[0] if jnp.shape(out[0]) == h0.shape else out[1]  # either order: test_run_rnn checks it
            return jnp.sum(h_last * GRAD_WEIGHTS)
        return f

    call = "jax.grad(loss, argnums=(0, 1))(params, h0), loss = sum(weights * h_last) with h_last from run_rnn over 7 steps"
    want = jax.jit(jax.grad(loss(lambda cell, p, h0, xs: _unrolled(p, h0, xs)), argnums=(0, 1)))(ELMAN, RUN_H0)
    try:
        got = jax.jit(jax.grad(loss(ex.run_rnn), argnums=(0, 1)))(ELMAN, RUN_H0)
    except ValueError as err:
        if "Reverse-mode differentiation does not work" not in str(err):
            raise
        raise expect.failure(call, "the gradients through time", f"ValueError: {str(err).splitlines()[0][:160]}",
                             "the loop is a while loop (lax.while_loop, or fori_loop with a traced trip count), "
                             "which jax.grad can't run backwards; lax.scan can.") from None
    if _matches(got[1], np.zeros_like(RUN_H0)) and not _matches(want[1], np.zeros_like(RUN_H0)):
        hint = ("the gradient with respect to h0 is zero: no gradient flowed back through the carry from step to "
                "step (a stop_gradient, or the state kept out of the scan's carry). Backpropagation through time "
                "needs the carry differentiable.")
    else:
        hint = ("the gradients differ from those of a plain Python loop over the same cell: the gradient must flow "
                "back through every step of the carry.")
    expect.close(got, want, call=call, rtol=1e-4, atol=1e-5, hint=hint)


# ---------------------------------------------------------------- the echo task

def _echo_params(seed, d_h=4, d_in=1):
    return {"cell": _gate(seed, d_in, d_h, scale=0.6),
            "out": {"w": _floats(seed + 3, (d_h, 1), 0.5), "b": _floats(seed + 4, (1,), 0.2)}}


def _np_echo_loss(params, xs, ys):
    h = np.zeros((xs.shape[0], np.shape(params["cell"]["wh"])[0]))
    preds = []
    for t in range(xs.shape[1]):
        h = _np_elman(params["cell"], h, xs[:, t])
        preds.append(h @ np.asarray(params["out"]["w"], np.float64) + np.asarray(params["out"]["b"], np.float64))
    return np.mean((np.stack(preds, axis=1) - np.asarray(ys, np.float64)) ** 2)


def echo_data(seed, batch, steps, delay=2, d_in=1):
    """Random sequences and their echo: ys[:, t] = xs[:, t - delay, :1] (zero for the first `delay` steps)."""
    xs = _floats(seed, (batch, steps, d_in))
    ys = np.zeros((batch, steps, 1), np.float32)
    ys[:, delay:] = xs[:, :-delay, :1]
    return xs, ys


@pytest.mark.exercise("echo_loss", points=2)
def test_echo_loss(ex):
    params = _echo_params(93)
    xs, ys = echo_data(94, batch=3, steps=5)
    call = "jax.jit(echo_loss)(params, xs, ys) with xs, ys of shape (3, 5, 1) (batch 3, 5 steps) and d_h = 4"
    with _on_documented(ex):
        try:
            got = _under_jit(call, "a scalar loss", "Loop over time with your run_rnn.", ex.echo_loss, params, xs, ys)
        except TypeError as err:
            if "dot_general" not in str(err) and "incompatible shapes" not in str(err):
                raise
            # On sequences as long as the batch, the shapes line up whichever axis comes first.
            square_xs, square_ys = echo_data(95, batch=4, steps=4)
            square = _or_none(lambda: jax.jit(ex.echo_loss)(params, square_xs, square_ys))
            batch_as_time = square is not None and _matches(square, _np_echo_loss(
                params, np.swapaxes(square_xs, 0, 1), np.swapaxes(square_ys, 0, 1)), rtol=1e-4, atol=1e-6)
            raise expect.failure(call, "a scalar loss", f"TypeError: {str(err).splitlines()[0][:160]}",
                                 "the shapes don't line up: run_rnn loops over axis 0, which must be time, but xs "
                                 "comes batch first (batch, T, d_in). On 4 sequences of 4 steps, where the shapes do "
                                 "line up, your loss is that of reading the batch axis as time: swap the first two "
                                 "axes." if batch_as_time else
                                 "the shapes don't line up: run_rnn loops over axis 0 and the cell takes h of shape "
                                 "(batch, d_h) and x of shape (batch, d_in) at each step.") from None
    want = _np_echo_loss(params, xs, ys)
    expect.shape(got, (), call=call, hint="one number: the mean over every element.")

    def time_major(a, reshape):  # what a reshape to (T, batch, ...) gives, seen batch first again
        return np.swapaxes(a.reshape(a.shape[1], a.shape[0], *a.shape[2:]), 0, 1) if reshape else a

    reshaped = [(rx, ry) for rx in (True, False) for ry in (True, False) if (rx or ry) and _matches(
        got, _np_echo_loss(params, time_major(xs, rx), time_major(ys, ry)), rtol=1e-4, atol=1e-6)]
    if _matches(got, want * ys.size, rtol=1e-4):
        hint = "this is the SUM of the squared errors; the loss is their mean."
    elif reshaped:
        which = {(True, True): "xs and ys were", (True, False): "xs was", (False, True): "ys was"}[reshaped[0]]
        hint = (f"{which} reshaped to (T, batch, ...), not transposed: the shape is right, but a reshape keeps the "
                "elements in their batch-first order, so each \"time step\" holds pieces of different sequences "
                "and times. Swap the first two axes (a transpose) to put time first.")
    else:
        hint = ("from a zero state, read each sequence in time order (the time axis first for run_rnn), predict "
                "h_t @ out.w + out.b at every step and average the squared errors.")
    expect.close(got, np.float32(want), call=call, rtol=1e-4, atol=1e-6, hint=hint)


# ---------------------------------------------------------------- train: Adam, its state in the scan carry

def _linear_loss(params, xs, ys):
    return jnp.mean((xs @ params["w"] + params["b"] - ys) ** 2)


def _np_adam_run(params, xs, ys, steps, lr, b1=0.9, b2=0.999, eps=1e-8):
    """The reference: optax.adam's update (its defaults) on _linear_loss, in NumPy float64."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    xs, ys = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
    mu = {k: np.zeros_like(v) for k, v in p.items()}
    nu = {k: np.zeros_like(v) for k, v in p.items()}
    losses = []
    for t in range(1, steps + 1):
        err = xs @ p["w"] + p["b"] - ys
        losses.append(np.mean(err ** 2))
        grads = {"w": 2 * xs.T @ err / err.size, "b": 2 * err.sum(axis=0) / err.size}
        for k in p:
            mu[k] = b1 * mu[k] + (1 - b1) * grads[k]
            nu[k] = b2 * nu[k] + (1 - b2) * grads[k] ** 2
            p[k] = p[k] - lr * (mu[k] / (1 - b1 ** t)) / (np.sqrt(nu[k] / (1 - b2 ** t)) + eps)
    return {k: v.astype(np.float32) for k, v in p.items()}, np.array(losses, np.float32)


TRAIN_STEPS = 3
TRAIN_DATA = ((100, 0.1), (102, 0.03))


@pytest.mark.exercise("train", points=2)
def test_train_follows_adam(ex):
    params = {"w": _floats(99, (3, 1)), "b": np.zeros((1,), np.float32)}
    returned = []
    for i, (seed, lr) in enumerate(TRAIN_DATA):
        xs, ys = _floats(seed, (8, 3)), _floats(seed + 1, (8, 1))
        call = (f"train(loss_fn, params, xs, ys, steps={TRAIN_STEPS}, lr={lr}) with a linear model's mean squared "
                f"error, {'first' if i == 0 else 'second'} of two data sets of shapes (8, 3), (8, 1)")
        got = _pair(ex.train(_linear_loss, params, xs, ys, TRAIN_STEPS, lr), call, "(params, losses)")
        got = (got[0], np.asarray(got[1]))
        returned.append(got)
        expect.shape(got[1], (TRAIN_STEPS,), call=call + ": the losses", hint="one loss per step, stacked by scan.")
        want = _np_adam_run(params, xs, ys, TRAIN_STEPS, lr)
        if _matches(got, want, rtol=1e-4, atol=1e-5):
            continue
        if i == 1 and _matches(got, returned[0]):
            hint = ("this call, on other data and another lr, returned what the first call did: a run (or data) kept "
                    "from an earlier call instead of training on what this call was given.")
        elif _matches(got[0], params):
            hint = "the params came back unchanged: carry the updated params from step to step and return the last."
        elif _matches(got[0], want[0], rtol=1e-4, atol=1e-5) and _matches(
                got[1], _np_adam_run(params, xs, ys, TRAIN_STEPS + 1, lr)[1][1:], rtol=1e-4, atol=1e-5):
            hint = ("the params are right, and these losses are those of the params AFTER each update (losses[t] is "
                    "the loss of the params step t returned): each step's loss is the one before its update, the "
                    "one jax.value_and_grad computes with the gradient, so losses[0] is the loss of the params given.")
        elif not _matches(got[1][0], want[1][0]):
            hint = ("losses[0] is not the loss of the params given: each step's loss is the one before its update, so "
                    "the first is the loss of the params train was called with.")
        else:
            hint = ("Adam's moments live in its state: carry (params, opt_state) through the steps, starting from "
                    "optax.adam(lr).init(params), and apply each step's updates.")
        expect.close(got, want, call=call, rtol=1e-4, atol=1e-5, hint=hint)


ECHO_HIDDEN, ECHO_T, ECHO_BATCH, ECHO_STEPS, ECHO_LR = 16, 10, 64, 200, 0.03
ECHO_MAX_MSE = 0.05  # the held-out mean squared error asked for; the targets' own mean square is about 0.8
ECHO_CALL = (f"train(loss_fn, params, xs, ys, steps={ECHO_STEPS}, lr={ECHO_LR}) on the echo task (ys[t] = xs[t - 2], "
             f"{ECHO_BATCH} sequences of {ECHO_T} steps, an Elman RNN with {ECHO_HIDDEN} hidden units)")


def _test_echo_loss(params, xs, ys):
    """The tests' own echo loss (an Elman cell and lax.scan), so that train is judged on its own."""
    cell = params["cell"]
    h0 = jnp.zeros((xs.shape[0], cell["wh"].shape[0]), jnp.float32)
    _, hs = jax.lax.scan(lambda h, x: (jnp.tanh(x @ cell["wx"] + h @ cell["wh"] + cell["b"]),) * 2, h0,
                         jnp.swapaxes(xs, 0, 1))
    return jnp.mean((hs @ params["out"]["w"] + params["out"]["b"] - jnp.swapaxes(ys, 0, 1)) ** 2)


def echo_init(seed, d_h=ECHO_HIDDEN):
    rng = np.random.default_rng(seed)
    return {"cell": {"wx": rng.standard_normal((1, d_h)).astype(np.float32),
                     "wh": (rng.standard_normal((d_h, d_h)) / np.sqrt(d_h)).astype(np.float32),
                     "b": np.zeros(d_h, np.float32)},
            "out": {"w": (rng.standard_normal((d_h, 1)) / np.sqrt(d_h)).astype(np.float32),
                    "b": np.zeros(1, np.float32)}}


def _loss_evaluations(ex, steps):
    """How many times train evaluates its loss_fn in a run of `steps` steps on a small linear problem, with
    no limit: the same count for any number of steps means the steps are compiled once."""
    count = [0]

    def loss_fn(params, xs, ys):
        count[0] += 1
        return _linear_loss(params, xs, ys)

    params = {"w": _floats(112, (3, 1)), "b": np.zeros((1,), np.float32)}
    ex.train(loss_fn, params, _floats(113, (8, 3)), _floats(114, (8, 1)), steps, 0.1)
    return count[0]


def _times(n):
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def _traced_too_often(ex):
    """The message for an echo run stopped at the third trace of its loss: whether the count grows with the
    steps (the steps are not compiled) or each compiled step evaluates the loss three times or more."""
    counts = _or_none(lambda: (_loss_evaluations(ex, 1), _loss_evaluations(ex, 3)))
    expected = "loss_fn traced at most twice (one compiled program for all the steps)"
    seen = "loss_fn traced a third time, so the run was stopped"
    if counts is not None:
        seen += (f". On a small problem, train evaluated it {_times(counts[0])} in a run of 1 step and "
                 f"{_times(counts[1])} in a run of 3")
    if counts is not None and counts[0] == counts[1] and counts[0] > 2:
        return expect.failure(ECHO_CALL, expected, seen + ": the steps are compiled once, but one step evaluates "
                                                          "loss_fn more than twice",
                              "one evaluation per step: jax.value_and_grad(loss_fn) gives the loss of the params "
                              "the step was given and its gradient together.")
    if counts is not None and counts[1] > counts[0]:
        return expect.failure(ECHO_CALL, expected, seen + ": it is traced again at every step, so the steps are not "
                                                          "compiled",
                              "jax.jit a function that runs lax.scan over the steps, carrying (params, opt_state); "
                              "a Python loop over un-jitted steps traces the loss at every step.")
    return expect.failure(ECHO_CALL, expected, seen,
                          "trace loss_fn once or twice in all: one jax.jit around a lax.scan over the steps, each "
                          "step evaluating the loss once.")


@pytest.fixture(scope="session")
def echo_run():
    """``echo_run(ex)``: (initial params, (params, losses)) of the echo training, once per module under test."""
    done = {}

    def get(ex):
        __tracebackhide__ = True
        key = id(ex._module) if hasattr(ex, "_module") else id(ex)
        if key not in done:
            traces = []

            def loss_fn(params, xs, ys):
                traces.append(1)
                if len(traces) > 2:
                    raise RuntimeError("traced a third time")
                return _test_echo_loss(params, xs, ys)

            init = echo_init(0)
            xs, ys = echo_data(110, ECHO_BATCH, ECHO_T)
            try:
                done[key] = (init, ex.train(loss_fn, init, xs, ys, ECHO_STEPS, ECHO_LR))
            except RuntimeError as err:
                if "traced a third time" not in str(err):
                    raise
                done[key] = _traced_too_often(ex)
        result = done[key]
        if isinstance(result, AssertionError):
            raise result
        expect.that(isinstance(result[1], (tuple, list)) and len(result[1]) == 2, call=ECHO_CALL,
                    expected="a pair (params, losses)", returned=expect.show(result[1]),
                    hint="return the final params and the stacked losses.")
        return result

    return get


@pytest.mark.exercise("train", points=3)
def test_train_echo(ex, echo_run):
    _, (params, losses) = echo_run(ex)
    xs, ys = echo_data(111, 256, ECHO_T)
    error = _or_none(lambda: float(_test_echo_loss(params, xs, ys)))
    if error is not None and error <= ECHO_MAX_MSE:
        return
    raise expect.failure(ECHO_CALL, f"a mean squared error <= {ECHO_MAX_MSE} on 256 new sequences",
                         "params that do not fit" if error is None else f"mean squared error {error:.4g}",
                         "each step: the loss and its gradient, then Adam's update from the state the last step "
                         "returned; carry both the params and the optimizer state into the next step.")


@pytest.mark.exercise("train", points=1)
def test_train_echo_losses(ex, echo_run):
    init, (params, losses) = echo_run(ex)
    xs, ys = echo_data(110, ECHO_BATCH, ECHO_T)
    expect.shape(losses, (ECHO_STEPS,), call=ECHO_CALL + ": the losses", hint="one loss per step, stacked by scan.")
    expect.dtype(losses, np.float32, call=ECHO_CALL + ": the losses", hint="the float32 losses the steps returned.")
    expect.close(np.asarray(losses)[0], np.float32(_test_echo_loss(init, xs, ys)), call=ECHO_CALL + ": losses[0]",
                 rtol=1e-4, atol=1e-6, hint="losses[0] is the loss of the params you were given, before any update.")
