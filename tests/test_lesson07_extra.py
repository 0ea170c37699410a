"""Lesson 07 judges each exercise on its own: a CNN that raises costs none of train_step's own tests
nor eval_step's, and a train_step that raises costs none of eval_step's."""
from grader.learner import runs, targets

BROKEN_CNN = '''

class CNN(CNN):
    def __call__(self, x):
        raise RuntimeError("a forward pass that never works")
'''
BROKEN_STEP = '''

@nnx.jit
def train_step(model, optimizer, x, y):
    raise RuntimeError("a training step that never works")
'''
OWN_TESTS = {
    "cnn": ["test_train_step_updates_model", "test_train_step_sets_training_mode",
            "test_eval_step_metrics", "test_eval_step_is_deterministic"],
    "cnn_and_step": ["test_eval_step_metrics", "test_eval_step_is_deterministic"],
}


def test_exercises_are_judged_apart(tmp_path):
    lesson = targets.find_lesson("07")
    reference = lesson.solution_file.read_text()
    jobs = {}
    for name, broken in (("cnn", BROKEN_CNN), ("cnn_and_step", BROKEN_CNN + BROKEN_STEP)):
        module = lesson.module_in(tmp_path / name)
        module.parent.mkdir(parents=True)
        module.write_text(reference + broken)
        jobs[name] = (["lessons/07"], str(tmp_path / name), ["-k", " or ".join(OWN_TESTS[name])])
    for name, run in runs.run_many(jobs).items():
        outcomes = run.outcomes()
        wrong = {t: outcomes.get(t, "not collected") for t in OWN_TESTS[name] if outcomes.get(t) != "passed"}
        assert not wrong, f"broken {name}: these tests should not depend on it: {wrong}\n{run.output[-3000:]}"
