"""Which probes a planted mistake can change: every probe whose exercise reads, however indirectly,
a name the mistake binds again; every probe where the analysis can't be sure."""
import pytest

from grader.authoring import reach


def _planted(tmp_path, lesson, body):
    path = tmp_path / lesson / "mistake.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('"""A mistake."""\nMUST_FAIL = ["test_x"]\n' + body)
    return path


def test_an_exercise_and_every_probe_that_calls_it_through_another(tmp_path):
    chosen = reach.probes_it_can_change(_planted(tmp_path, "06", "def forward(params, x):\n    return x\n"))
    # predict_one calls forward; predict calls predict_one; the training probes put the documented
    # forward in place, but the analysis does not count on it: they run too
    assert {"forward", "predict_one", "predict"} <= set(chosen)
    assert not {"mse", "log_softmax", "accuracy", "sgd_update"} & set(chosen)


def test_a_new_helper_counts_through_the_exercise_that_calls_it(tmp_path):
    body = "def _helper(x):\n    return x\n\n\ndef mse(pred, target):\n    return _helper(pred - target)\n"
    assert set(reach.probes_it_can_change(_planted(tmp_path, "06", body))) == {"mse"}


def test_a_module_name_bound_again_reaches_every_exercise_that_reads_it(tmp_path):
    chosen = reach.probes_it_can_change(_planted(tmp_path, "06", "import numpy as jnp\n"))
    assert {"mse", "log_softmax", "cross_entropy", "accuracy"} <= set(chosen)


@pytest.mark.parametrize("body", [
    "import jax\njax.config.update('jax_enable_x64', True)\n",  # acts on import
    "jnp.ones = None\n",  # changes an object every exercise reads
    "for _ in range(2):\n    pass\n",
])
def test_what_the_analysis_cannot_follow_runs_every_probe(tmp_path, body):
    assert reach.probes_it_can_change(_planted(tmp_path, "06", body)) is None


def test_code_that_reads_names_by_name_reaches_everything():
    bindings = reach._bindings("def a():\n    return globals()['b']()\n\n\ndef b():\n    return 1\n\n\ndef c():\n    return 2\n")
    assert reach._reach(bindings, {"a"}) is None
    assert reach._reach(bindings, {"c"}) == {"c"}


def test_a_probe_that_hands_the_module_to_a_helper_always_runs():
    def run(ex, x):
        return helper(ex, x)  # noqa: F821 - parsed, never called

    def documented(ex, x):
        with on_documented(ex, "forward"):  # noqa: F821
            return ex.predict(x)

    assert reach._read_off_module(run) is None
    assert reach._read_off_module(documented) == {"predict"}
