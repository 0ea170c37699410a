"""The grader's clean side: hidden inputs, the reference's answers, and the verdict on a student's.

Nothing here imports a student's module. The student's outputs arrive as ``.npz`` files written by
the sandbox (``grader.classroom.sandbox``) and read with ``grader.classroom.wire`` (no pickle, numbers only). The
reference runs here, in the grader's own process, on the same inputs.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from grader import probes as probes_mod
from grader.probes import reworded
from grader.learner import points, targets
from grader.classroom import wire


class NoOutput(str):
    """A probe's failure that left no output to compare: the call raised, crashed, timed out, or sent
    something that could not be read. Only a value the grader compared itself can be blamed on an
    exercise below (see `charges`)."""


def no_output(reason: str) -> NoOutput:
    return reason if isinstance(reason, NoOutput) else NoOutput(reason)


def hidden_inputs(probe: probes_mod.Probe, secret: str) -> dict:
    """The probe's inputs for this secret, as they will look after crossing the wire."""
    inputs = probe.make(probes_mod.rng(secret, probe.lesson, probe.name))
    return roundtrip(inputs, keys="wrap")


def roundtrip(value, *, keys: str):
    spec, arrays = wire.encode(value)
    return wire.decode(spec, arrays, keys=keys)


def save_inputs(path: Path, lesson: str, secret: str) -> None:
    """One file holding every probe's hidden inputs for a lesson, keyed by probe name."""
    wire.save(path, {p.name: _raw_inputs(p, secret) for p in probes_mod.for_lesson(lesson).all})


def _raw_inputs(probe, secret):
    return probe.make(probes_mod.rng(secret, probe.lesson, probe.name))


_REFERENCE: dict[tuple[str, str], dict] = {}


def reference_answers(lesson: str, secret: str) -> dict[str, object]:
    """{probe name: the reference's output, decoded as a student's would be}, computed once per run."""
    key = (lesson, secret)
    if key not in _REFERENCE:
        module = targets.load(targets.find_lesson(lesson).solution_file)
        answers = {}
        for probe in probes_mod.for_lesson(lesson).all:
            out = probe.run(module, **hidden_inputs(probe, secret))
            answers[probe.name] = roundtrip(out, keys="data")
        _REFERENCE[key] = answers
    return _REFERENCE[key]


def verdict(probe: probes_mod.Probe, got, secret: str) -> str | None:
    """None when the student's decoded output `got` is right; otherwise the reason."""
    want = reference_answers(probe.lesson, secret)[probe.name]
    try:
        return probe.judge(got, want, roundtrip(_raw_inputs(probe, secret), keys="data"))
    except Exception as err:  # a malformed output can trip a custom check
        return f"the output could not be checked ({type(err).__name__}: {err})"


_BUILDS_ON: dict[str, dict[str, set[str]]] = {}


def builds_on(lesson: targets.Lesson) -> dict[str, set[str]]:
    """{exercise: the other exercises its reference calls, directly or through helpers}: read from
    the reference's source, so the lesson's design, not a hand-kept list, says what rests on what."""
    if lesson.number not in _BUILDS_ON:
        _BUILDS_ON[lesson.number] = _calls_between_exercises(lesson)
    return _BUILDS_ON[lesson.number]


def _calls_between_exercises(lesson: targets.Lesson) -> dict[str, set[str]]:
    tree = points.parse(lesson.solution_file.read_text(), str(lesson.solution_file))
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    exercises = {p.exercise for p in probes_mod.for_lesson(lesson.number).all}

    def calls(name: str) -> set[str]:
        seen, todo = {name}, [name]
        while todo:
            for node in ast.walk(defs[todo.pop()]):
                if isinstance(node, ast.Name) and node.id in defs and node.id not in seen:
                    seen.add(node.id)
                    todo.append(node.id)
        return seen - {name}

    return {e: calls(e) & exercises for e in exercises if e in defs}


def charges(lesson: targets.Lesson, tests: list, failed: dict[str, str]) -> dict[str, str]:
    """{test name: the finding that costs it its points}, from the probes' findings alone.

    `failed` maps each failed probe's name to its reason. Every point rests on values the grader
    compared itself, and nothing the student's process says of its tests waives a finding:
    - a wrong value costs the tests that check the property found (those the finding names with
      `probes.concerns`, else every test the probe guards), whatever the public run says of any test;
    - a probe that gave no value to compare (`NoOutput`: it raised, crashed or sent nothing readable)
      costs every test it guards;
    - a concept check (how the exercise is written: one scan, vmap, one trace) can only be heard from
      the sandbox, so any failed probe of its exercise costs it too;
    - a test no probe guards (none should be: a kit test holds that) is a concept check of its exercise.
    "Charged once" means a test is never charged for a property it doesn't check. Where an exercise
    the reference builds on gave wrong values too, the message says to fix that one first; the points
    go all the same, since "my values are my own lower exercise's" can only be said by the sandbox."""
    below = builds_on(lesson)
    all_probes = probes_mod.for_lesson(lesson.number).all
    wrong_values = {p.exercise for p in all_probes if p.name in failed and not isinstance(failed[p.name], NoOutput)}
    claims = {t.name for t in claim_only(tests, lesson.number)}
    cost: dict[str, str] = {}
    for probe in all_probes:
        if probe.name not in failed:
            continue
        reason = failed[probe.name]
        guarded = probe.guarded(tests)
        if isinstance(reason, NoOutput) or probes_mod.concerns_every_test(reason):
            concerned = guarded
        else:
            concerned = [t for t in guarded if t.name in reason.tests] or guarded
        culprits = sorted(below.get(probe.exercise, set()) & wrong_values)
        if culprits and not isinstance(reason, NoOutput):
            names = ", ".join(f"`{c}`" for c in culprits)
            mine = " and gives what it gives on your own" if probes_mod.is_built_on(reason) else ","
            reason = probes_mod.reworded(
                reason, f"{reason} (it builds on {names}{mine} wrong on the grader's inputs too: fix that first)")
        claimed = [t for t in tests if t.exercise == probe.exercise and t.name in claims]
        for test in concerned + claimed:
            cost.setdefault(test.name, reason)
    return cost


def claim_only(tests: list, lesson_number: str) -> list:
    """The tests whose outcome the grader can only hear from the sandbox: the concept checks, and any
    test no probe guards (a kit test keeps those to concept checks)."""
    guarded_names = {t.name for p in probes_mod.for_lesson(lesson_number).all for t in p.guarded(tests)}
    return [t for t in tests if t.concept or t.name not in guarded_names]


def hidden_message(test, reason: str, tests: list, passed: set[str]) -> str:
    """What a student reads for a test that passed in public but is charged by a probe's finding:
    an answer fitted to the public inputs only when every public test of the exercise passed;
    otherwise the same mistake the failing tests already show."""
    siblings = [t for t in tests if t.exercise == test.exercise]
    if isinstance(reason, NoOutput):
        return (f"`{test.exercise}` passes this test, but on the grader's hidden inputs it gave no answer the "
                f"grader could check: {reason}.\nHint: it must return plain arrays (or the structure the "
                "README describes) for any input of the kind the README describes.")
    if test.concept:
        return (f"`{test.exercise}` passes this check of how it is written, but gives wrong values on the "
                f"grader's hidden inputs: {reason}. A check of how an exercise is written counts once its "
                f"values are right.\nHint: fix the values of `{test.exercise}` first; this check follows.")
    if all(t.name in passed for t in siblings):
        return (f"`{test.exercise}` passes this test's own inputs but not the grader's hidden inputs: {reason}.\n"
                "Hint: make it work for any input of the kind the README describes, not only the ones in "
                "the test file.")
    return (f"`{test.exercise}` gives wrong values on the grader's inputs too: {reason}. This test checks "
            f"that too, so it counts with the failing tests of `{test.exercise}`.\n"
            f"Hint: fix what the failing tests of `{test.exercise}` say, and this one follows.")


def run_probe_here(probe: probes_mod.Probe, module, secret: str):
    """(decoded output, None) or (None, reason): one probe on `module` in this process, through the
    wire as in a sandbox. For the kit's own checks on trusted code only."""
    try:
        out = probe.run(module, **hidden_inputs(probe, secret))
        spec, arrays = wire.encode(out)
        return wire.decode(spec, arrays, keys="data"), None
    except wire.WireError as err:
        return None, no_output(f"returned {err}")
    except Exception as err:
        return None, no_output(describe_error(err))


def describe_error(err: BaseException) -> str:
    first = (str(err).strip().splitlines() or [""])[0][:300]
    frames = traceback.extract_tb(err.__traceback__)
    where = next((f for f in reversed(frames) if "/grader/" not in f.filename and "site-packages" not in f.filename), None)
    at = f" (line {where.lineno} of {Path(where.filename).name})" if where else ""
    return f"raised {type(err).__name__}: {first}{at}"


def check_here(lesson: str, module_path: Path, secret: str = "dev",
               only: list[str] | None = None) -> dict[str, str | None]:
    """{probe name: None or reason} for the module at `module_path`, all in this process (trusted code):
    every probe of the lesson, or those named in `only`."""
    chosen = [p for p in probes_mod.for_lesson(lesson).all if only is None or p.name in only]
    try:
        module = targets.load(Path(module_path))
    except targets.TargetError as err:
        return {p.name: str(err).splitlines()[0] for p in chosen}
    results = {}
    for probe in chosen:
        got, reason = run_probe_here(probe, module, secret)
        results[probe.name] = reason if reason else verdict(probe, got, secret)
    return results


_CHILD = """
import json, sys
from pathlib import Path
from grader.learner import jax_setup
jax_setup.configure()
from grader.classroom import judge
found = []
for lesson, path, secret, only in json.loads(Path(sys.argv[1]).read_text()):
    found.append({name: None if reason is None else [str(reason), list(getattr(reason, "tests", ())),
                                                     bool(getattr(reason, "below", False))]
                  for name, reason in judge.check_here(lesson, Path(path), secret, only).items()})
Path(sys.argv[2]).write_text(json.dumps(found))
"""


def check_in_child(jobs: list[tuple[str, Path, str, list[str] | None]],
                   timeout: float = 1800) -> list[dict[str, str | None]]:
    """`check_here` for each (lesson, module path, secret, only), in one fresh Python process (trusted
    code).

    Hundreds of modules probed in one process pile up compiled programs, and such a run has crashed
    inside XLA; a child per batch keeps the caller small, and a crash costs one batch with a message
    saying which."""
    from grader import KIT_ROOT

    with tempfile.TemporaryDirectory(prefix="jaxkit-check-") as tmp:
        given, taken = Path(tmp) / "jobs.json", Path(tmp) / "found.json"
        given.write_text(json.dumps([[lesson, str(path), secret, only] for lesson, path, secret, only in jobs]))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(KIT_ROOT), os.environ.get("PYTHONPATH")]))}
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(given), str(taken)], cwd=KIT_ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not taken.is_file():
            raise RuntimeError(f"probing {len(jobs)} module(s) of lesson(s) {sorted({j[0] for j in jobs})} in a "
                               f"child process failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        found = json.loads(taken.read_text())
    return [{name: None if got is None else _finding(*got) for name, got in one.items()} for one in found]


def _finding(text: str, tests: list[str], below: bool):
    """A finding as `check_here` made it, rebuilt from what crossed from the child process."""
    if below:
        return probes_mod.built_on(text, *tests)
    return probes_mod.concerns(text, *tests) if tests else text
