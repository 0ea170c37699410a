"""Hidden-input checks: the values the grader itself compares, outside the student's process.

A probe names one exercise and holds three pieces:
- ``make(rng)``: the hidden inputs, drawn on the grader's side from the course's secret seed
  (a dict of arrays, Python numbers, tuples, key arrays);
- ``run(ex, **inputs)``: the call into the exercise module. It runs twice: in the student's sandboxed
  process on the student's module, and in the grader on the reference. It returns plain arrays
  (a pytree of them), never a verdict;
- ``guards`` (optional): the names of the exercise's tests whose points the probe guards, where it
  mirrors only some of them (a huge-logits probe guards the huge-logits test); all of them if empty;
- ``value_tests`` (optional): where the default comparison is used, the tests that check values (a
  difference in value concerns them, not a concept check such as "uses vmap");
- ``check(got, want, inputs)`` (optional): compares the student's output with the reference's on the
  grader's side and returns ``None`` or a short reason (``concerns(reason, "test_a", ...)`` where
  the reason concerns only some tests). The default compares every value with
  ``np.allclose`` at the probe's tolerance.

The student's process never holds a right answer for the hidden inputs, so it can't copy one, and
whatever it does to pytest, chex or its own reports, a value that doesn't match earns nothing.
A ``check`` must accept every correct implementation that the lesson's tests accept.

Each lesson's probes live in ``grader/probes/lessonNN.py`` as ``PROBES = Probes("NN")``.
"""
from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from grader.learner.numbers import number_kind


class Finding(str):
    """A check's reason that concerns only some of the exercise's tests, built with `concerns`.

    A check that looks at several properties (shape, dtype, spread, key use) says which tests check
    the property it found wrong, so one mistake costs the points the lesson's tests give that
    mistake, not every point of the exercise. A plain string concerns every test the probe guards."""
    tests: tuple[str, ...] = ()
    below: bool = False


def concerns(reason: str, *tests: str) -> Finding:
    finding = Finding(reason)
    finding.tests = tests
    return finding


def built_on(reason: str, *tests: str) -> Finding:
    """A finding whose wrong values equal what the exercise gives on top of the student's own earlier
    exercises, as the sandbox computed it. That is only ever said, never proved, so it changes the
    message (fix the exercise below first) and never the points."""
    finding = concerns(reason, *tests)
    finding.below = True
    return finding


def is_built_on(finding) -> bool:
    return bool(getattr(finding, "below", False))


def concerns_every_test(finding: str) -> bool:
    """True for a plain reason, which concerns every test the probe guards."""
    return not getattr(finding, "tests", ())


def reworded(finding: str, text: str) -> str:
    """`text` (the finding said again, e.g. with where it was found), concerning the same tests."""
    if is_built_on(finding):
        return built_on(text, *finding.tests)
    return text if concerns_every_test(finding) else concerns(text, *finding.tests)


def merge_findings(findings: list[str]) -> str | None:
    """One reason for all of a check's findings: the words of one that concerns every test if there
    is one, else the first's, and the tests any of them concerns."""
    if not findings:
        return None
    whole = [f for f in findings if concerns_every_test(f)]
    if whole:
        return str(whole[0])
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    return concerns(str(findings[0]) + more, *dict.fromkeys(t for f in findings for t in f.tests))


@dataclass(frozen=True)
class Probe:
    lesson: str
    exercise: str
    name: str
    make: Callable[[np.random.Generator], dict]
    run: Callable[..., Any]
    check: Callable[[Any, Any, dict], str | None] | None = None
    rtol: float = 1e-5
    atol: float = 1e-6
    guards: tuple[str, ...] = ()
    value_tests: tuple[str, ...] = ()

    def guarded(self, tests) -> list:
        """The tests (points.GradedTest) among `tests` whose points this probe guards."""
        return [t for t in tests if t.exercise == self.exercise and (not self.guards or t.name in self.guards)]

    def judge(self, got, want, inputs: dict) -> str | None:
        """None if the student's `got` is right, else the reason (it never shows the expected values)."""
        if self.check is not None:
            return self.check(got, want, inputs)
        reason = compare(got, want, rtol=self.rtol, atol=self.atol)
        return concerns(reason, *self.value_tests) if reason and self.value_tests else reason


class Probes:
    """A lesson's probes, added with ``@PROBES("exercise", make=...)`` on the run function."""

    def __init__(self, lesson: str):
        self.lesson = lesson
        self.all: list[Probe] = []

    def __call__(self, exercise: str, *, make, check=None, rtol=1e-5, atol=1e-6, name=None, guards=(),
                 value_tests=()):
        def add(run):
            probe_name = name or run.__name__
            if any(p.name == probe_name for p in self.all):
                raise ValueError(f"lesson {self.lesson} has two probes named {probe_name!r}")
            self.all.append(Probe(self.lesson, exercise, probe_name, make, run, check, rtol, atol, tuple(guards),
                                  tuple(value_tests)))
            return run
        return add

    def for_exercise(self, exercise: str) -> list[Probe]:
        return [p for p in self.all if p.exercise == exercise]


def for_lesson(number: str) -> Probes:
    module = importlib.import_module(f"grader.probes.lesson{number}")
    return module.PROBES


def rng(secret: str, lesson: str, probe: str) -> np.random.Generator:
    """The generator for one probe's inputs: fixed by the secret, different for every probe."""
    digest = hashlib.sha256(f"{secret}\0{lesson}\0{probe}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def _is_key(tree) -> bool:
    return type(tree) is tuple and len(tree) == 3 and isinstance(tree[0], str) and tree[0] == "key"


def _leaves(tree, path="out"):
    """(path, leaf) pairs; lists and tuples are the same, numbers become 0-d arrays."""
    if isinstance(tree, (list, tuple)) and not _is_key(tree):
        yield path, ("seq", len(tree))
        for i, v in enumerate(tree):
            yield from _leaves(v, f"{path}[{i}]")
    elif isinstance(tree, dict):
        yield path, ("dict", tuple(sorted(tree)))
        for k in sorted(tree):
            yield from _leaves(tree[k], f"{path}[{k!r}]")
    elif tree is None or isinstance(tree, str):
        yield path, ("atom", tree)
    elif _is_key(tree):  # ("key", impl, data)
        yield path, ("key", tree[1], np.asarray(tree[2]))
    else:
        yield path, ("array", np.asarray(tree))


def mlp_forward(params, x) -> np.ndarray:
    """An MLP's output computed here in float64, from a list of {"w", "b"} layers (ReLU between
    them, none after the last): the grader's own forward pass over params a sandbox returned."""
    x = np.asarray(x, np.float64)
    for i, layer in enumerate(params):
        x = x @ np.asarray(layer["w"], np.float64) + np.asarray(layer["b"], np.float64)
        if i < len(params) - 1:
            x = np.maximum(x, 0.0)
    return x


def compare(got, want, *, rtol=1e-5, atol=1e-6) -> str | None:
    """The first difference between two decoded outputs, described without the expected values."""
    got_leaves, want_leaves = list(_leaves(got)), list(_leaves(want))
    for (path, w), (_, g) in zip(want_leaves, got_leaves + [(None, ("missing",))] * len(want_leaves)):
        if w[0] != g[0]:
            return f"{path} has the wrong structure: expected {_kind(w)}, got {_kind(g)}"
        if w[0] in ("seq", "dict", "atom"):
            if w[1] != g[1]:
                return f"{path} has the wrong structure: expected {_kind(w)}, got {_kind(g)}"
            continue
        if w[0] == "key":
            if w[1] != g[1] or w[2].shape != g[2].shape or not np.array_equal(w[2], g[2]):
                return f"{path}: the keys differ from the reference's"
            continue
        reason = _compare_arrays(g[1], w[1], rtol, atol)
        if reason:
            return f"{path}: {reason}"
    if len(got_leaves) != len(want_leaves):
        return "the output has the wrong structure"
    return None


def raised_here(compute):
    """compute(), or the text of what it raised: one call's error costs that call's test alone."""
    try:
        return compute()
    except Exception as err:  # noqa: BLE001
        return f"raised {type(err).__name__}"


def by_part(parts: dict):
    """A check for a dict output: each key's part (what it is, the test it concerns, its tolerances)
    compared on its own, and a difference charged to that part's test. A part given as a string is
    a call that raised (`raised_here`); where it is the reference's, that is the grader's failure,
    never a pass."""
    def check(got, want, inputs):
        if not isinstance(got, dict) or set(got) != set(want):
            return "the output has the wrong structure"
        found = []
        for key, (what, test, tol) in parts.items():
            if isinstance(want[key], str):
                found.append(f"{what}: the reference {want[key]} on these inputs")
            elif isinstance(got[key], str):
                found.append(concerns(f"{what}: {got[key]}", test))
            else:
                reason = compare(got[key], want[key], **tol)
                if reason:
                    found.append(concerns(f"{what}: {reason.removeprefix('out').removeprefix(': ')}", test))
        return merge_findings(found)
    return check


def _kind(leaf) -> str:
    if leaf[0] == "seq":
        return f"a list/tuple of {leaf[1]}"
    if leaf[0] == "dict":
        return f"a dict with keys {list(leaf[1])}"
    if leaf[0] == "array":
        return f"an array of shape {leaf[1].shape}"
    if leaf[0] == "atom":
        return repr(leaf[1])
    return "nothing" if leaf[0] == "missing" else "a key array"


def _compare_arrays(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> str | None:
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}"
    if number_kind(got) != number_kind(want):
        return f"dtype {got.dtype} ({number_kind(got)}) where the reference gives {number_kind(want)} values"
    if want.dtype.kind in "biu":
        return None if np.array_equal(got, want) else "the values are not the reference's"
    got64 = got.astype(np.complex128 if got.dtype.kind == "c" else np.float64)
    if not np.all(np.isfinite(got64)) and np.all(np.isfinite(want)):
        return "it holds NaN or infinity"
    if np.allclose(got64, want, rtol=rtol, atol=atol):
        return None
    diff = np.abs(got64 - want)
    where = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    return f"values differ from the reference's by up to {float(np.max(diff)):.3g} (at index {tuple(int(i) for i in where)})"
