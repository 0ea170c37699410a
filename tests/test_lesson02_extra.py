"""Lesson 02 accepts other correct spellings where the docstring leaves a choice (dropout's mask from
uniform numbers, jnp.where or a product), and judges estimate_pi on its own: a mistake in in_circle
costs in_circle's test only."""
from grader.learner import runs, targets

ALTERNATIVE = '''

def dropout(key, x, p_keep):
    keep = jax.random.uniform(key, x.shape) < p_keep
    return (x * keep / p_keep).astype(x.dtype)


def noise_for_ids(key, ids):
    def one(i):
        return jax.random.normal(jax.random.fold_in(key, i), ())
    return jax.vmap(one)(ids)
'''
BROKEN_IN_CIRCLE = '''

def in_circle(key):
    raise RuntimeError("an in_circle that never works")
'''


def test_other_spellings_pass_and_estimate_pi_stands_alone(tmp_path):
    lesson = targets.find_lesson("02")
    jobs = {}
    for name, extra, selected in (("alternative", ALTERNATIVE, []),
                                  ("broken_in_circle", BROKEN_IN_CIRCLE, ["-k", "estimate_pi"])):
        module = lesson.module_in(tmp_path / name)
        module.parent.mkdir(parents=True)
        module.write_text(lesson.solution_file.read_text() + extra)
        jobs[name] = (["lessons/02"], str(tmp_path / name), selected)
    for name, run in runs.run_many(jobs).items():
        outcomes = run.outcomes()
        wrong = {t: o for t, o in outcomes.items() if o != "passed"}
        assert outcomes and not wrong, f"{name}: {wrong}\n{run.output[-3000:]}"
