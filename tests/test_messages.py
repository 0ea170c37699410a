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
