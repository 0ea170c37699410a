"""Failure messages that teach: on every planted mistake, each failing test's message names the
exercise, says what was called, what was expected, what came back, and gives a hint."""
from grader.authoring import devcheck

PARTS = ("Called ", "expected: ", "returned: ", "hint: ")


def test_every_planted_mistake_gets_a_four_part_message_naming_its_exercise(planted_runs):
    checked, short = 0, []
    for planted in devcheck.planted_mistakes():
        for test in planted_runs[devcheck.planted_key(planted)].tests:
            if test["outcome"] != "failed":
                continue
            checked += 1
            message = test["message"]
            missing = [p.strip() for p in PARTS if p not in message]
            if test["exercise"] not in message:
                missing.append(f"the name {test['exercise']}")
            if missing:
                short.append(f"{devcheck.planted_key(planted)} {test['test']}: no {missing}\n    {message[:300]}")
    assert checked >= 50
    assert not short, "\n".join(short)


def test_messages_name_the_cause_they_observed(planted_runs):
    """A planted mistake's MUST_SAY phrases appear in its failing test's message: the hint names what
    the test saw (NumPy random at trace time, a second trace...), not a fixed guess."""
    checked, wrong = 0, []
    for planted in devcheck.planted_mistakes():
        outcomes = {t["test"]: t for t in planted_runs[devcheck.planted_key(planted)].tests}
        for test, phrases in devcheck.must_say(planted).items():
            checked += 1
            message = outcomes.get(test, {}).get("message", "")
            missing = [p for p in phrases if p.lower() not in message.lower()]
            if missing:
                wrong.append(f"{devcheck.planted_key(planted)} {test}: no {missing}\n    {message[:400]}")
    assert not wrong, "\n".join(wrong)


def test_messages_leave_out_causes_they_did_not_observe(planted_runs):
    """A planted mistake's MUST_NOT_SAY phrases (the hint of another mistake, which a fixed guess would
    give) are absent from its tests' messages."""
    wrong = []
    for planted in devcheck.planted_mistakes():
        outcomes = {t["test"]: t for t in planted_runs[devcheck.planted_key(planted)].tests}
        for test, phrases in devcheck.must_not_say(planted).items():
            if test not in outcomes:
                wrong.append(f"{devcheck.planted_key(planted)} {test}: not run (name it in MUST_FAIL or MUST_PASS)")
                continue
            message = outcomes[test].get("message", "")
            said = [p for p in phrases if p.lower() in message.lower()]
            if said:
                wrong.append(f"{devcheck.planted_key(planted)} {test}: says {said}\n    {message[:400]}")
    assert not wrong, "\n".join(wrong)


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _answer_expressions(lesson) -> set[str]:
    """Each answer line of the reference without its `return` or assignment target: the code a
    message must not hand over."""
    import re

    from grader.learner import stubs

    found = set()
    for line in stubs.answer_lines(lesson.solution_file.read_text()):
        core = _squeezed(re.sub(r"^(return\s+|[\w\s,.\[\]]+?=(?!=)\s*)", "", line))
        if len(core) >= 16 and not re.fullmatch(r"[\w.]+\([\w,]*\)", core):  # not a bare call: f(x, y)
            found.add(core)
    return found


def _string_literals(path) -> list[str]:
    import ast

    texts = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            texts.append("".join(v.value for v in node.values if isinstance(v, ast.Constant)))
    return texts


def test_no_test_message_hands_over_the_answer():
    """A failing test names the concept and what it saw; the code itself stays in the later levels
    of `grader hint`. No string in a lesson's tests holds a line of the reference's answer."""
    from grader.learner import targets

    given = []
    for lesson in targets.all_lessons():
        answers = _answer_expressions(lesson)
        for text in _string_literals(lesson.test_file):
            given += [f"lesson {lesson.number}: {a!r} in {text[:120]!r}" for a in answers if a in _squeezed(text)]
    assert not given, "\n".join(given)


def test_a_long_message_keeps_its_hint_in_the_results():
    """A results file holds a message of at most 2000 characters; where two arrays of a hundred
    numbers fill that, the array lines are cut, not the hint after them."""
    from grader.pytest_plugin import MAX_MESSAGE_CHARS, shorten

    numbers = " ".join(f"{i * 0.123456:.4e}" for i in range(200))
    message = "\n".join(["Called f(x).", f"  expected: [{numbers}]", f"  returned: [{numbers}]",
                         "  differs at [0]: expected 1.0, returned 2.0", "  hint: reduce over the right axes."])
    short = shorten(message)
    assert len(short) <= MAX_MESSAGE_CHARS < len(message)
    assert short.startswith("Called f(x).") and short.endswith("  hint: reduce over the right axes.")
    assert shorten("Called f(3).\n  hint: h") == "Called f(3).\n  hint: h"
