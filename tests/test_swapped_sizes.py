"""A public test must tell apart the things an exercise could mix up: two sizes (fan_in and fan_out, batch
and length), two arrays of one kind (queries and keys, scale and bias). Where a test's inputs make them
equal (a square layer, as many heads as sequences), the mix-up gives the right answer there and passes,
though it is wrong everywhere else; a change of sizes can make a planted mistake invisible in the same way.

So, for every exercise of the reference, each pair of its names of one kind is swapped in its body, one
mutant per pair, and the exercise's own graded tests must fail on every mutant. The pairs are
- the names unpacked together from a shape or a zip (`batch, length, d = x.shape`,
  `for fan_in, fan_out in zip(sizes[:-1], sizes[1:])`): sizes;
- the parameters that the public tests, run on the reference, hand values of one kind in one call: two
  Python ints, or two arrays of one rank (a recording run finds them, so no list is kept by hand).
A mutant the tests pass is a blind spot, unless it is listed in EQUIVALENT with why it gives the same
answer everywhere (then no input could tell it apart). Planted mistakes (tests/planted) cover the mix-ups
that are not a plain swap, such as the first layer's fan_in used for every layer.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from grader.learner import points, runs, targets

LESSONS = targets.all_lessons()
pytestmark = pytest.mark.slow  # a recording run and a run per mutant, for every lesson: minutes

# (lesson, function, name, name): why the swap changes nothing, whatever the inputs.
EQUIVALENT = {
    ("01", "swap", "i", "j"): "swapping entries i and j is swapping entries j and i",
    ("06", "mse", "pred", "target"): "(pred - target) ** 2 is symmetric in the two",
    ("08", "mse", "pred", "target"): "(pred - target) ** 2 is symmetric in the two",
    ("08", "mae", "pred", "target"): "|pred - target| is symmetric in the two",
    ("08", "huber", "pred", "target"): "a function of |pred - target|, symmetric in the two",
    ("11", "merge_heads", "heads", "head_dim"): "they appear only as the product heads * head_dim",
}
# Blind spots this test found and the lessons' tests don't catch yet: (lesson, function, name, name): what
# passes. Each must still pass its tests (the test says when one is caught, so it leaves the list).
OPEN = {}

_RECORDER = '''

# --- recording the kinds of the arguments each exercise is called with ---
import functools as _rec_functools
import inspect as _rec_inspect
import json as _rec_json

_REC_SEEN = {}


def _rec_kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if isinstance(shape, tuple) and dtype is not None:
        return f"array of rank {len(shape)}, dtype kind {getattr(dtype, 'kind', dtype)}"
    return None


def _rec_wrap(name, fn, skip_first):
    try:
        names = list(_rec_inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return fn

    @_rec_functools.wraps(fn)
    def wrapper(*args, **kwargs):
        given = dict(zip(names[1:] if skip_first else names, args[1:] if skip_first else args), **kwargs)
        kinds = {k: _rec_kind(v) for k, v in given.items()}
        seen = _REC_SEEN.setdefault(name, [])
        entry = {k: v for k, v in kinds.items() if v is not None}
        if entry not in seen:
            seen.append(entry)
            _rec_write()
        return fn(*args, **kwargs)
    return wrapper


def _rec_write():
    """Merged into what the file holds, at each new entry: a run forked from the kit's preloaded
    process ends without atexit, and a module loaded twice keeps what the first copy saw."""
    try:
        with open(PATH) as f:
            merged = _rec_json.load(f)
    except (OSError, ValueError):
        merged = {}
    for name, entries in _REC_SEEN.items():
        merged.setdefault(name, []).extend(e for e in entries if e not in merged[name])
    with open(PATH, "w") as f:
        _rec_json.dump(merged, f)


_rec_write()


for _rec_name in NAMES:
    _rec_value = globals()[_rec_name]
    if isinstance(_rec_value, type):
        _rec_value.__init__ = _rec_wrap(_rec_name + ".__init__", _rec_value.__init__, True)
    else:
        globals()[_rec_name] = _rec_wrap(_rec_name, _rec_value, False)

'''


def _exercise_defs(lesson):
    """{exercise: its def or class node} in the reference."""
    tree = ast.parse(lesson.solution_file.read_text())
    exercises = set(points.exercise_points(lesson))
    return {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in exercises}


def _functions(node):
    """(qualified name, function node, its class or None) for an exercise: the function, or the class's methods."""
    if isinstance(node, ast.FunctionDef):
        return [(node.name, node, None)]
    return [(f"{node.name}.{f.name}", f, node.name) for f in node.body if isinstance(f, ast.FunctionDef)]


def _unpacked_sizes(fn):
    """The groups of names unpacked together from a shape or a zip."""
    groups = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, (ast.For, ast.comprehension)):
            pairs = [(node.target, node.iter)]
        else:
            continue
        for target, value in pairs:
            from_shape = isinstance(value, ast.Attribute) and value.attr == "shape"
            from_zip = isinstance(value, ast.Call) and getattr(value.func, "id", None) == "zip"
            if (from_shape or from_zip) and isinstance(target, ast.Tuple) \
                    and all(isinstance(e, ast.Name) for e in target.elts):
                groups.append([e.id for e in target.elts])
    return groups


def _parameters_of_one_kind(qualname, fn, seen):
    """The pairs of parameters that one recorded call handed two ints, or two arrays of one rank."""
    names = [a.arg for a in fn.args.args + fn.args.kwonlyargs if a.arg != "self"]
    pairs = set()
    for call in seen.get(qualname, []):
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if a in call and call[a] == call.get(b) and (call[a] == "int" or call[a].startswith("array")):
                    pairs.add((a, b))
    return pairs


class _Swap(ast.NodeTransformer):
    """Swaps the reads of a and b in one function's own scope. A nested function whose parameters shadow
    them is left alone: swapping in both the call and the nested body would swap twice and change nothing."""

    def __init__(self, a, b):
        self.a, self.b, self.depth = a, b, 0

    def _scope(self, node):
        names = {arg.arg for arg in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
        if self.depth and names & {self.a, self.b}:
            return node
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _scope

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in (self.a, self.b):
            return ast.copy_location(ast.Name(self.b if node.id == self.a else self.a, ast.Load()), node)
        return node


def _mutant(fn, cls, a, b) -> str | None:
    """The source that redefines `fn` with a and b swapped wherever they are read; None if that changes nothing."""
    before = ast.unparse(fn)
    swapped = ast.unparse(_Swap(a, b).visit(ast.parse(before).body[0]))
    if swapped == before:
        return None
    if cls is None:
        return swapped
    return f"class {cls}({cls}):\n" + "\n".join("    " + line for line in swapped.splitlines())


def _graded_names(lesson, exercise):
    return [t.name for t in points.graded_tests(lesson.test_file) if t.exercise == exercise]


def _write_target(root: Path, lesson, name: str, extra: str) -> Path:
    target = root / lesson.number / name
    module = lesson.module_in(target)
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(lesson.solution_file.read_text() + "\n\n# --- swapped ---\n" + extra + "\n")
    return target


def _recording_job(lesson, root: Path) -> tuple:
    """The run_many job of the recording run: the lesson's public tests on the reference, noting what
    they hand each exercise in root/seen-NN.json."""
    record = root / f"seen-{lesson.number}.json"
    extra = _RECORDER.replace("NAMES", repr(sorted(_exercise_defs(lesson)))).replace("PATH", repr(str(record)))
    return [f"lessons/{lesson.number}"], str(_write_target(root / "record", lesson, lesson.number, extra)), []


def _recorded_kinds(lesson, root: Path, run) -> dict:
    """{function: [{parameter: kind}]}: what the lesson's public tests hand each exercise, on the reference."""
    record = root / f"seen-{lesson.number}.json"
    failed = {t["test"]: t["outcome"] for t in run.tests if t["outcome"] != "passed"}
    assert run.tests and not failed and record.is_file(), \
        f"lesson {lesson.number}: the recording run should pass like the reference: {failed}\n{run.output[-2000:]}"
    return json.loads(record.read_text())


def _mutant_jobs(lesson, root: Path, seen: dict) -> dict:
    """{(lesson, function, a, b): (exercise, run_many job)}: the lesson's mutants, each to run on its
    exercise's graded tests."""
    jobs = {}
    for exercise, node in _exercise_defs(lesson).items():
        for qualname, fn, cls in _functions(node):
            pairs = {(a, b) for group in _unpacked_sizes(fn) for i, a in enumerate(group) for b in group[i + 1:]}
            pairs |= _parameters_of_one_kind(qualname, fn, seen)
            for a, b in sorted(pairs):
                source = _mutant(fn, cls, a, b)
                if source is None:
                    continue
                name = f"{qualname}-{a}-{b}".replace(".", "_")
                jobs[(lesson.number, qualname, a, b)] = (exercise, (
                    [f"lessons/{lesson.number}"], str(_write_target(root / "mutants", lesson, name, source)),
                    ["-k", " or ".join(_graded_names(lesson, exercise))]))
    return jobs


@pytest.fixture(scope="module")
def mutants(tmp_path_factory):
    """mutants(lesson): [(exercise, function, a, b, run)], every lesson's made at the first request: the
    recording runs in one batch, then every lesson's mutants in another, so the runs share one
    process that has imported JAX and keep both cores busy (a lesson whose recording run failed says
    so when asked for)."""
    root = tmp_path_factory.mktemp("swapped")
    recordings = runs.run_many({lesson.number: _recording_job(lesson, root) for lesson in LESSONS})
    found, jobs, broken = {}, {}, {}
    for lesson in LESSONS:
        try:
            seen = _recorded_kinds(lesson, root, recordings[lesson.number])
        except AssertionError as err:
            broken[lesson.number] = err
            continue
        for key, (exercise, job) in _mutant_jobs(lesson, root, seen).items():
            found.setdefault(lesson.number, []).append((exercise, *key[1:]))
            jobs[key] = job
    done = runs.run_many(jobs)

    def get(lesson):
        if lesson.number in broken:
            raise broken[lesson.number]
        return [(e, q, a, b, done[(lesson.number, q, a, b)]) for e, q, a, b in found.get(lesson.number, [])]
    return get


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_every_swap_of_two_sizes_or_two_arrays_fails_a_test(lesson, mutants):
    unseen, equivalent_but_caught = [], []
    for exercise, qualname, a, b, run in mutants(lesson):
        outcomes = run.outcomes()
        caught = bool(outcomes) and any(outcome != "passed" for outcome in outcomes.values())
        listed = (lesson.number, qualname, a, b) in EQUIVALENT or (lesson.number, qualname, a, b) in OPEN
        if listed and caught:
            equivalent_but_caught.append(f"{qualname}: {a} <-> {b}")
        elif not listed and not caught:
            unseen.append(f"{qualname}: {a} <-> {b} passes {sorted(outcomes)}")
    assert not unseen, (f"lesson {lesson.number}: these swaps pass every test of their exercise; make the tests' "
                        "sizes (or arrays) differ so they show, or list a swap in EQUIVALENT with why it changes "
                        "nothing:\n  " + "\n  ".join(unseen))
    assert not equivalent_but_caught, f"listed in EQUIVALENT or OPEN, but caught now: {equivalent_but_caught}"
