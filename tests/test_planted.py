"""Each concept check catches a common mistake: a planted wrong implementation fails it."""
import pytest

from grader.authoring import devcheck

PLANTED = devcheck.planted_mistakes()


def test_every_lesson_has_planted_mistakes():
    from grader.learner import targets

    covered = {p.parent.name for p in PLANTED}
    missing = [l.number for l in targets.all_lessons() if l.number not in covered]
    assert not missing, f"lessons without planted mistakes: {missing}"


@pytest.mark.parametrize("planted", PLANTED, ids=devcheck.planted_key)
def test_planted_mistake_is_caught(planted, planted_runs):
    run = planted_runs[devcheck.planted_key(planted)]
    missed = devcheck.uncaught(planted, run)
    outcomes = run.outcomes()
    assert not missed, (
        f"{devcheck.planted_key(planted)}: {[(n, outcomes.get(n, 'not collected')) for n in missed]} "
        f"should fail on this mistake\n{run.output[-3000:]}")


@pytest.mark.parametrize("planted", [p for p in PLANTED if devcheck.must_pass(p)], ids=devcheck.planted_key)
def test_planted_mistake_costs_only_its_own_exercise(planted, planted_runs):
    """The MUST_PASS tests still pass: an exercise that builds on the mistaken one is judged on its own work."""
    run = planted_runs[devcheck.planted_key(planted)]
    failed = devcheck.wrongly_failed(planted, run)
    outcomes = run.outcomes()
    assert not failed, (
        f"{devcheck.planted_key(planted)}: {[(n, outcomes.get(n, 'not collected')) for n in failed]} "
        f"should pass despite this mistake\n{run.output[-3000:]}")
