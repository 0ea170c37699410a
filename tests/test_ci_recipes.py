"""The CI workflows the kit ships stay safe and keep to the kit's version bounds.

Two are examples for an instructor's course repository (grader/course/ci/), one runs the kit's own
tests (.github/workflows/kit-tests.yml). Student code may do anything in the job that runs it, so
such a job must hold nothing worth taking: no token scope, no checkout, no stored credentials.
"""
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
GRADING = ROOT / "grader/course/ci/github-grading.yml"
CLASS_GRADER = ROOT / "grader/course/ci/github-class-grader.yml"
KIT_TESTS = ROOT / ".github/workflows/kit-tests.yml"
WORKFLOWS = [GRADING, CLASS_GRADER, KIT_TESTS]
LOWEST = ROOT / ".ci/lowest-constraints.txt"
ids = [p.name for p in WORKFLOWS]

# what a step that runs student code looks like in these workflows
STUDENT_CODE = re.compile(r"nbgrader autograde|python -m grader grade ")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_every_action_is_pinned_to_a_full_commit_with_its_version_named(path):
    uses = [line.strip() for line in path.read_text().splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert uses
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*", line), line


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_no_job_keeps_the_token_in_git_config(path):
    checkouts = [s for _, s in steps(load(path)) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, step


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_permissions_are_empty_by_default_and_at_most_read_per_job(path):
    workflow = load(path)
    assert workflow.get("permissions") == {}, "the default token permissions apply"
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, f"{job_id} takes the default token permissions"
        assert set(job["permissions"].items()) <= {("contents", "read")}, job_id


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_no_expression_is_expanded_inside_a_shell_script(path):
    """Inputs reach scripts through env, so an input can't become shell code."""
    for job_id, step in steps(load(path)):
        assert "${{" not in step.get("run", ""), (job_id, step["run"])


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_pip_downloads_are_cached_by_the_project_file(path):
    setups = [s for _, s in steps(load(path)) if s.get("uses", "").startswith("actions/setup-python@")]
    assert setups
    for step in setups:
        given = step.get("with", {})
        assert given.get("cache") == "pip", step
        assert "pyproject.toml" in given.get("cache-dependency-path", "").split(), step


@pytest.mark.parametrize("path", [GRADING, CLASS_GRADER], ids=ids[:2])
def test_student_code_runs_only_in_jobs_with_no_token_scope_and_no_checkout(path):
    workflow = load(path)
    graders = {job_id for job_id, step in steps(workflow) if STUDENT_CODE.search(step.get("run", ""))}
    assert graders
    for job_id in graders:
        job = workflow["jobs"][job_id]
        assert job.get("permissions") == {}, job_id
        uses = [s.get("uses", "") for s in job["steps"]]
        assert not any(u.startswith("actions/checkout@") for u in uses), job_id
        # the pip cache comes from a job that ran no student code: restored here, never saved first
        assert job.get("needs"), job_id
        for step in job["steps"]:
            if "secrets." in str(step.get("env", {})):
                assert STUDENT_CODE.search(step.get("run", "")), "a secret in a step that doesn't need it"
        assert "secrets." not in str(job.get("env", {})), job_id


def test_the_nbgrader_workflow_holds_no_secret_and_fetches_the_submissions():
    """submitted/ is ignored by git, so the workflow can't expect it in the checkout."""
    text = GRADING.read_text()
    assert "secrets." not in text
    assert "grader/course/submitted/" in (ROOT / ".gitignore").read_text()
    downloads = [s for _, s in steps(load(GRADING)) if s.get("uses", "").startswith("actions/download-artifact@")]
    assert {"name": "submitted", "path": "grader/course/submitted"} in [s["with"] for s in downloads]
    assert "sha256sum --check" in text and 'filter="data"' in text


@pytest.mark.parametrize("path", WORKFLOWS + [ROOT / "benchmarks/gpu_check.sh"], ids=ids + ["gpu_check.sh"])
def test_a_cuda_jax_is_installed_within_the_kit_bounds(path):
    text = path.read_text()
    assert "jax[cuda" not in text and "-U jax" not in text  # would take JAX past the kit's bounds
    if "cuda" in text:
        assert '".[instructor,cuda12]"' in text  # the kit's extra


def test_the_cuda12_extra_has_the_same_bounds_as_jax():
    project = pyproject()["project"]
    jax = next(Requirement(r) for r in project["dependencies"] if Requirement(r).name == "jax")
    (cuda,) = [Requirement(r) for r in project["optional-dependencies"]["cuda12"]]
    assert (cuda.name, cuda.extras, cuda.specifier) == ("jax", {"cuda12"}, jax.specifier)


def test_the_lowest_constraints_pin_the_floors_pyproject_admits():
    project = pyproject()["project"]
    floors = {}
    for spec in project["dependencies"]:
        req = Requirement(spec)
        for s in req.specifier:
            if s.operator == ">=":
                floors[req.name] = s.version
    pins = {}
    for line in LOWEST.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (s,) = req.specifier
            assert s.operator == "==", line
            pins[req.name] = s.version.removesuffix(".*")
    for name in ("jax", "jaxlib", "flax", "optax", "chex", "pytest"):
        assert pins.get(name) == floors[name], name


def test_the_kit_tests_run_at_both_ends_of_the_admitted_versions():
    floor = pyproject()["project"]["requires-python"].removeprefix(">=")
    job = load(KIT_TESTS)["jobs"]["test"]
    matrix = {(m["python"], m["constraints"]) for m in job["strategy"]["matrix"]["include"]}
    assert matrix == {(floor, ".ci/lowest-constraints.txt"), ("3.13", "")}
    scripts = [s.get("run", "") for s in job["steps"]]
    assert "python -m grader devcheck" in scripts and "python -m pytest tests" in scripts


@pytest.mark.skipif(shutil.which("zizmor") is None, reason="zizmor is not installed")
def test_zizmor_finds_nothing():
    out = subprocess.run(["zizmor", "--offline", "--persona", "pedantic", *map(str, WORKFLOWS)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
