"""The hidden-input probes discriminate: every exercise has one, the reference passes them whatever
the secret, the untouched stub fails them all, and every planted mistake that gives a wrong value is
caught by one (the mistakes only a concept check can see are listed, with why)."""
import tempfile
from pathlib import Path

import pytest

from grader import devcheck, judge, points, probes, stubs, targets

LESSONS = targets.all_lessons()

# Planted mistakes whose values are right: only the public concept checks catch them.
CONCEPT_ONLY = {
    "02/python_loop_pi.py",  # the reference's numbers, from a loop traced once per sample
    "02/python_loop_pi_jitted.py",  # the same, under jit
    "05/parent_key_after_split.py",  # every statistic right; only jax.debug_key_reuse sees the reuse
    "03/no_shard_map.py",  # right loss and gradient, no shard_map in the program
    "03/python_loop_not_vmap.py",  # right per-example gradients, a program that grows with the batch
    "03/stats_outside_pmap.py",  # right totals and means, no psum/pmean in the program
    "06/imported_logsumexp.py",  # the right numbers from jax.nn's logsumexp instead of the learner's own
    "06/library_log_softmax.py",  # the right numbers from jax.nn.log_softmax
    "06/predict_python_loop.py",  # right predictions, one example at a time instead of vmap
    "06/step_jits_each_call.py",  # right updates, recompiled on every call
}


@pytest.fixture(scope="module")
def stub_dir():
    with tempfile.TemporaryDirectory(prefix="jaxkit-probe-stubs-") as tmp:
        stubs.write_stubs(Path(tmp))
        yield Path(tmp)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_every_exercise_has_a_probe(lesson):
    probed = {p.exercise for p in probes.for_lesson(lesson.number).all}
    missing = [e for e in points.exercise_points(lesson) if e not in probed]
    unknown = sorted(probed - set(points.exercise_points(lesson)))
    assert not missing and not unknown, f"lesson {lesson.number}: no probe for {missing}; probes of unknown exercises {unknown}"


@pytest.mark.parametrize("secret", ["kit-a", "kit-b"])
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_the_reference_passes_its_probes(lesson, secret):
    failed = {k: v for k, v in judge.check_here(lesson.number, lesson.solution_file, secret).items() if v}
    assert not failed


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_the_stub_fails_every_probe(lesson, stub_dir):
    passed = [k for k, v in judge.check_here(lesson.number, lesson.module_in(stub_dir), "kit-a").items() if not v]
    assert not passed


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_hidden_inputs_differ_by_secret(lesson):
    for probe in probes.for_lesson(lesson.number).all:
        a, b = (judge.roundtrip(judge._raw_inputs(probe, s), keys="data") for s in ("kit-a", "kit-b"))
        assert probes.compare(a, b) is not None or not a, f"{probe.name}: the same inputs for two secrets"


@pytest.mark.parametrize("planted", devcheck.planted_mistakes(), ids=devcheck.planted_key)
def test_a_planted_mistake_fails_a_probe(planted, tmp_path):
    key = devcheck.planted_key(planted)
    lesson = targets.find_lesson(planted.parent.name)
    target = devcheck.planted_target(planted, tmp_path)
    failed = [k for k, v in judge.check_here(lesson.number, lesson.module_in(target), "kit-a").items() if v]
    if key in CONCEPT_ONLY:
        assert not failed, f"{key} is listed as concept-only but fails probes {failed}: take it off the list"
    else:
        assert failed, f"{key} gives wrong values the public tests catch, but no probe catches it"
