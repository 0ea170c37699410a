"""The hidden-input probes discriminate: every exercise has one, the reference passes them whatever
the secret, the untouched stub fails them all, and every planted mistake that gives a wrong value is
caught by one (the mistakes only a concept check can see are listed, with why)."""
import pytest

from grader.authoring import devcheck, reach
from grader.learner import points, runs, stubs, targets
from grader import probes
from grader.classroom import judge

LESSONS = targets.all_lessons()

# Planted mistakes whose values are right: only the public concept checks catch them.
CONCEPT_ONLY = {
    "03/loss_twice_value_then_grad.py",  # right loss and gradients, the loss computed twice
    "03/preds_outside_value_and_grad.py",  # right values, the predictions computed twice
    "03/pmap_default_devices.py",  # right totals, on the default devices instead of the given ones
    "03/shard_map_replicated.py",  # right loss, every device given the whole batch
    "02/noise_python_loop.py",  # right noise, a program that grows with the number of ids
    "01/set_first_numpy_copy.py",  # right values from NumPy; only jit sees it
    "01/zero_negatives_python_if.py",  # right values eagerly; a Python if fails under jit
    "01/clamp_slice_python_loop.py",  # right values eagerly; a Python loop over values fails under jit
    "01/count_labels_boolean_mask.py",  # right counts eagerly; a boolean mask fails under jit
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
    "06/step_loss_twice.py",  # right updates, the loss evaluated twice in one trace
    "06/step_rewraps_jit.py",  # right updates, a step that is not itself the jitted function
    "06/training_not_jitted.py",  # right updates from a step never compiled; fit runs on the documented step
    "06/step_static_lr.py",  # right updates, a new program for each lr; fit runs on the documented step
    "08/huber_from_optax.py",  # the right numbers from optax.huber_loss instead of the learner's own
    "08/bce_from_optax.py",  # the right numbers from optax.sigmoid_binary_cross_entropy
    "08/sce_from_optax.py",  # the right numbers from optax's softmax cross-entropy
    "08/confusion_python_loop.py",  # right counts, a program that grows with the batch
    "08/confusion_one_hot_product.py",  # right counts from a matrix product, no scatter-add
    "08/step_loss_twice.py",  # right updates, the loss evaluated twice in one trace
    "08/step_not_jitted.py",  # right updates, a step that is never compiled
    "08/sgd_from_optax.py",  # Optax's own SGD: the right updates, no optimizer of one's own
    "08/adam_from_optax_scale_by_adam.py",  # Adam's rule from optax.scale_by_adam
    "09/clip_norm_where.py",  # right values, both branches computed and picked with jnp.where
    "09/activate_where_chain.py",  # right values, all three activations computed
    "09/cumsum_python_loop.py",  # right totals, a program that grows with the length
    "09/run_rnn_python_loop.py",  # right states and gradients, the cell unrolled once per step
    "09/train_unjitted_loop.py",  # right steps, the loss traced at every step
    "10/pmap_default_devices.py",  # right steps, on the default devices instead of the given ones
    "10/shard_map_replicated_batch.py",  # right steps, every device given the whole batch
    "10/jit_without_shardings.py",  # right steps, all of it on one device
    "10/jit_batch_replicated.py",  # right steps, every device computing the whole batch
    "10/conv_all_gather.py",  # the right convolution, every device gathering the whole signal
    "11/mha_python_loop_over_heads.py",  # right outputs, a program that grows with the number of heads
    "12/step_mutable_true.py",  # right step, every collection mutable in the forward pass
    "12/nnx_deterministic.py",  # right statistics and evaluation logits, dropout never on in training
    "12/lstm_python_loop.py",  # right states, a program that grows with the length of the sequence
    "13/prefetch_not_ahead.py",  # the right batches on the device, none of them ahead of the consumer
    "13/prefetch_reads_everything.py",  # the right batches on the device, the whole iterator taken first
    "13/time_without_blocking.py",  # the right output and clock difference, the clock stopped at dispatch
    "13/time_blocks_after_the_clock.py",  # the same, blocked on only after the clock stopped
    "13/step_no_donation.py",  # right steps, the old state kept alive beside the new one
}


PROBE_BATCH = 40  # modules a child probes: small enough to share out evenly, large enough to reuse compiles


# one planted mistake a lesson, also probed with every probe: what reach.probes_it_can_change left out
# must pass on it, as on the reference
EVERY_PROBE = {lesson.number: next(p for p in devcheck.planted_mistakes() if p.parent.name == lesson.number)
               for lesson in LESSONS}


@pytest.fixture(scope="module")
def probe_results(tmp_path_factory):
    """{(lesson, what, secret): {probe name: reason or None}} for the reference (two secrets) and the
    untouched stub with every probe, and every planted mistake with the probes it can change (and
    EVERY_PROBE's with all, under the secret "all"): run once, in fresh child processes of at most
    PROBE_BATCH modules of one lesson each (one process probing hundreds of modules has crashed inside
    XLA's compiler), two at a time, the largest batches first so that neither core waits alone at
    the end."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path_factory.mktemp("probed")
    stubs.write_stubs(root / "stubs")
    batches = []
    for lesson in LESSONS:
        jobs = {(lesson.number, "reference", s): (lesson.solution_file, None) for s in ("kit-a", "kit-b")}
        jobs[(lesson.number, "stub", "kit-a")] = (lesson.module_in(root / "stubs"), None)
        for planted in (p for p in devcheck.planted_mistakes() if p.parent.name == lesson.number):
            module = lesson.module_in(devcheck.planted_target(planted, root / "planted"))
            jobs[(lesson.number, devcheck.planted_key(planted), "kit-a")] = (module, reach.probes_it_can_change(planted))
            if planted == EVERY_PROBE[lesson.number]:
                jobs[(lesson.number, devcheck.planted_key(planted), "all")] = (module, None)
        items, parts = list(jobs.items()), -(-len(jobs) // PROBE_BATCH)
        batches += [dict(items[n::parts]) for n in range(parts)]
    batches.sort(key=len, reverse=True)

    def probe(jobs):
        return dict(zip(jobs, judge.check_in_child([(k[0], path, "kit-a" if k[2] == "all" else k[2], only)
                                                    for k, (path, only) in jobs.items()])))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return {key: result for one in pool.map(probe, batches) for key, result in one.items()}


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_every_exercise_has_a_probe(lesson):
    probed = {p.exercise for p in probes.for_lesson(lesson.number).all}
    missing = [e for e in points.exercise_points(lesson) if e not in probed]
    unknown = sorted(probed - set(points.exercise_points(lesson)))
    assert not missing and not unknown, f"lesson {lesson.number}: no probe for {missing}; probes of unknown exercises {unknown}"
    tests = points.graded_tests(lesson.test_file)
    for probe in probes.for_lesson(lesson.number).all:
        guarded = {t.name for t in probe.guarded(tests)}
        assert guarded and guarded >= set(probe.guards), f"probe {probe.name} guards {probe.guards}, not all tests of `{probe.exercise}`"
        assert guarded >= set(probe.value_tests), f"probe {probe.name}: value tests {probe.value_tests} it doesn't guard"


@pytest.mark.parametrize("secret", ["kit-a", "kit-b"])
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_the_reference_passes_its_probes(lesson, secret, probe_results):
    failed = {k: v for k, v in probe_results[(lesson.number, "reference", secret)].items() if v}
    assert not failed


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_the_stub_fails_every_probe(lesson, probe_results):
    passed = [k for k, v in probe_results[(lesson.number, "stub", "kit-a")].items() if not v]
    assert not passed


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_hidden_inputs_differ_by_secret(lesson):
    for probe in probes.for_lesson(lesson.number).all:
        a, b = (judge.roundtrip(judge._raw_inputs(probe, s), keys="data") for s in ("kit-a", "kit-b"))
        assert probes.compare(a, b) is not None or not a, f"{probe.name}: the same inputs for two secrets"


@pytest.mark.parametrize("planted", devcheck.planted_mistakes(), ids=devcheck.planted_key)
def test_a_planted_mistake_fails_a_probe(planted, probe_results):
    key = devcheck.planted_key(planted)
    lesson = targets.find_lesson(planted.parent.name)
    results = probe_results[(lesson.number, key, "kit-a")]
    failed = [k for k, v in results.items() if v]
    exercise_of = {p.name: p.exercise for p in probes.for_lesson(lesson.number).all}
    for name in failed:
        tests = {t.name for t in points.graded_tests(lesson.test_file) if t.exercise == exercise_of[name]}
        unknown = set(getattr(results[name], "tests", ())) - tests
        assert not unknown, f"probe {name}'s finding names tests {sorted(unknown)}, not tests of its exercise"
    if key in CONCEPT_ONLY:
        assert not failed, f"{key} is listed as concept-only but fails probes {failed}: take it off the list"
    else:
        assert failed, f"{key} gives wrong values the public tests catch, but no probe catches it"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_the_probes_a_planted_mistake_cannot_change_pass_on_it(lesson, probe_results):
    planted = EVERY_PROBE[lesson.number]
    key = devcheck.planted_key(planted)
    every, chosen = probe_results[(lesson.number, key, "all")], probe_results[(lesson.number, key, "kit-a")]
    assert set(every) == {p.name for p in probes.for_lesson(lesson.number).all}
    left_out = {name: reason for name, reason in every.items() if name not in chosen and reason}
    assert not left_out, f"{key}: probes left out of its runs fail on it: {left_out}"
    assert {name: bool(every[name]) for name in chosen} == {name: bool(reason) for name, reason in chosen.items()}


def _charged(number, failed):
    lesson = targets.find_lesson(number)
    return judge.charges(lesson, points.graded_tests(lesson.test_file), failed)


def _tests_of(number, exercise, concept=None):
    return {t.name for t in points.graded_tests(targets.find_lesson(number).test_file)
            if t.exercise == exercise and (concept is None or t.concept == concept)}


def test_a_probe_costs_only_the_tests_it_guards():
    charged = _charged("06", {"log_softmax_huge_logits": "NaN"})
    assert set(charged) == {"test_log_softmax_large_logits"} | _tests_of("06", "log_softmax", concept=True)


def test_a_finding_costs_the_tests_of_its_property_whatever_the_sandbox_says():
    """The charges are computed from the probes' findings alone: no outcome the student's process
    reports for any test (a claimed failure included) can waive one."""
    finding = probes.concerns("the biases are not all zero", "test_init_layer_biases_are_zero")
    assert set(_charged("05", {"init_layer": finding})) == {"test_init_layer_biases_are_zero"}
    import inspect
    assert list(inspect.signature(judge.charges).parameters) == ["lesson", "tests", "failed"]


def test_a_plain_finding_costs_every_guarded_test():
    assert set(_charged("05", {"init_layer": "values differ"})) == _tests_of("05", "init_layer")


def test_a_concept_check_counts_only_where_its_exercise_values_are_right():
    charged = _charged("06", {"make_train_step": probes.concerns("values differ", "test_train_step")})
    assert set(charged) == {"test_train_step", "test_train_step_traces_once"}
    assert _tests_of("06", "make_train_step", concept=True) == {"test_train_step_traces_once"}


def test_a_test_no_probe_guards_counts_as_a_concept_check():
    lesson = targets.find_lesson("08")
    tests = points.graded_tests(lesson.test_file)
    unguarded = points.GradedTest("test_made_up", "huber", 5)
    charged = judge.charges(lesson, tests + [unguarded], {"huber": "values differ"})
    assert "test_made_up" in charged


def test_wrong_values_above_a_wrong_exercise_cost_points_and_say_where_to_start():
    failed = {"forward": "values differ",
              "make_train_step": probes.built_on("values differ", "test_train_step")}
    charged = _charged("06", failed)
    assert {"test_train_step", "test_train_step_traces_once"} <= set(charged)
    assert "builds on `forward`" in charged["test_train_step"]


def test_an_exercise_that_gave_no_answer_loses_every_test_it_guards():
    failed = {name: judge.no_output("raised NotImplementedError") for name in ("forward", "make_train_step")}
    charged = _charged("06", failed)
    assert _tests_of("06", "make_train_step") | _tests_of("06", "forward") <= set(charged)
    assert "builds on" not in charged["test_train_step"]


@pytest.mark.parametrize("mistake", ["05/nonzero_biases.py", "02/dropout_drop_probability.py"])
def test_a_mistake_the_public_tests_see_costs_nothing_more_in_the_class_grader(mistake, tmp_path):
    """One wrong property that a probe finds and a public test fails: the class grader's charges stay
    within the tests that failed in public (`devcheck --charges` checks every planted mistake so)."""
    planted = devcheck.PLANTED_DIR / mistake
    failed = devcheck.probe_failures([planted], tmp_path)[planted]
    assert failed, f"{mistake} should fail a probe"
    run = runs.run_lessons([f"lessons/{planted.parent.name}"], str(tmp_path / planted.stem))
    assert devcheck.charged_beyond_public(planted, failed, run) == {}


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_every_graded_test_rests_on_a_value_the_grader_checks(lesson):
    """Every test but a concept check is guarded by a probe whose values the grader compares itself,
    and every concept check belongs to an exercise that has one: no point rests on a claim alone
    except a concept check's, and that only where the exercise's values are right."""
    tests = points.graded_tests(lesson.test_file)
    all_probes = probes.for_lesson(lesson.number).all
    unguarded = [t.name for t in judge.claim_only(tests, lesson.number) if not t.concept]
    assert not unguarded, f"lesson {lesson.number}: no probe guards {unguarded} (a behaviour test needs one)"
    bare = sorted({t.exercise for t in tests if t.concept} - {p.exercise for p in all_probes})
    assert not bare, f"lesson {lesson.number}: concept checks of {bare}, whose values no probe checks"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda l: l.number)
def test_an_untouched_stub_that_claims_every_test_passed_earns_nothing(lesson):
    """What the sandbox says of its tests buys nothing by itself: every probe of the stub raised, so
    every test, concept checks and training tests included, is charged whatever the claims."""
    from grader.classroom import grading, runner, submissions

    outcome = runner.Outcome()
    for step in runner.steps(lesson):
        if step.startswith("probe:"):
            outcome.done[step] = {"status": "error", "message": "raised NotImplementedError"}
        else:
            outcome.done[step] = {"status": "ok", "outcome": "passed", "message": ""}
    sub = submissions.Submission(student="claims", files={lesson.number: b""}, problems={})
    record = grading.lesson_record(lesson, outcome, sub, "kit-a")
    assert record["earned"] == 0, [t["test"] for t in record["tests"] if t["earned"]]
