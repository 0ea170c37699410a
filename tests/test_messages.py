"""Failure messages that teach: on every planted mistake, each failing test's message names the
exercise, says what was called, what was expected, what came back, and gives a hint."""
from grader import devcheck

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
