"""Leveled hints: every exercise of every lesson has at least two, and each ask shows the next level."""
import pytest

from grader.learner import hints, points, targets


@pytest.mark.parametrize("number", [l.number for l in targets.all_lessons()])
def test_every_exercise_has_leveled_hints(number):
    lesson = targets.find_lesson(number)
    found = hints.read_hints(lesson)
    missing = [e for e in points.exercise_points(lesson) if len(found.get(e, [])) < 2]
    assert not missing, f"lesson {number}: add at least two hints to {hints.hints_file(lesson)} for {missing}"
    assert set(found) <= set(points.exercise_points(lesson)), "hints for exercises that don't exist"


def test_hints_come_one_level_at_a_time_and_the_last_repeats(tmp_path):
    lesson = targets.find_lesson("01")
    state = tmp_path / "hints.json"
    levels = hints.read_hints(lesson)["set_first"]
    seen = [hints.next_hint(lesson, "set_first", state) for _ in range(len(levels) + 1)]
    assert [s[0] for s in seen] == list(range(1, len(levels) + 1)) + [len(levels)]
    assert [s[2] for s in seen[:-1]] == levels
    assert hints.next_hint(lesson, "add_at", state)[0] == 1  # each exercise keeps its own level
    with pytest.raises(ValueError, match="has no hints for 'nope'"):
        hints.next_hint(lesson, "nope", state)


def test_the_last_hint_says_so_and_what_to_do_next(tmp_path, monkeypatch, capsys):
    from grader import cli
    from grader.learner import remember

    monkeypatch.setattr(hints, "STATE_FILE", tmp_path / "hints.json")
    levels = len(hints.read_hints(targets.find_lesson("01"))["set_first"])
    outputs = []
    for _ in range(levels + 1):
        assert cli.main(["hint", "01", "set_first"]) == 0
        outputs.append(capsys.readouterr().out)
    assert not any("last hint" in out for out in outputs[:-2])
    assert "That was the last hint for `set_first`." in outputs[-2]
    assert "still the last hint" in outputs[-1] and "python -m grader hint 01 --reset" in outputs[-1]
    assert all("`python -m grader solution 01`" in out for out in outputs[-2:])
    monkeypatch.setattr(remember, "has_reference", lambda lesson: False)  # the student package has none
    assert cli.main(["hint", "01", "set_first"]) == 0
    out = capsys.readouterr().out
    assert "still the last hint" in out and "grader solution" not in out and "README.md" in out
