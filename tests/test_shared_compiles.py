"""The class grader's shared compile cache: the reference's sandbox writes the programs it compiles,
and a student's sandbox opens one by name, where it compiles the very same program, but can neither
list the cache nor write to it. The hostile class (tests/hostile/shared_compiles.py) tries the same
from inside a real sandbox."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from grader import KIT_ROOT
from grader.classroom import confine, grading, runner

needs_landlock = pytest.mark.skipif(confine.landlock_abi() < 1,
                                    reason="no Landlock here: the grader shares no compile cache without it")

PROGRAM = """
from grader.learner import jax_setup
jax_setup.configure()
import jax, jax.numpy as jnp
hits = []
jax.monitoring.register_event_listener(
    lambda event, **kw: hits.append(event) if event == "/jax/compilation_cache/cache_hits" else None)

@jax.jit
def program(x):
    return jnp.tanh(x @ x.T + 0.5).sum()

value = float(program(jnp.arange(12.0, dtype=jnp.float32).reshape(3, 4)))
print(json.dumps({"value": value, "hits": len(hits), "tried": tried}))
"""

CONFINED = """
import glob, json, os
from grader.classroom import confine, grading
cache, own = os.environ["JAX_LESSONS_CACHE"], os.environ["HOME"]
confine.landlock(grading.readable_paths() + [{kit!r}], [own], ["/dev/null", "/dev/urandom"], read_by_name=[cache])
tried = {{}}
def attempt(name, action):
    try:
        tried[name] = repr(action())
    except OSError as err:
        tried[name] = f"refused: errno {{err.errno}}"
def write(name):
    with open(os.path.join(cache, name), "wb") as f:
        return f.write(b"not a program")
attempt("listdir", lambda: os.listdir(cache))
attempt("glob", lambda: glob.glob(os.path.join(cache, "*")))
attempt("write", lambda: write("jit_program-" + "0" * 64 + "-cache"))
attempt("mkdir", lambda: os.mkdir(os.path.join(cache, "sub")))
"""


def _run(code: str, cache, home, writes: bool) -> dict:
    env = dict(os.environ, JAX_LESSONS_CACHE=str(cache), JAX_LESSONS_CACHE_WRITES="on" if writes else "off",
               HOME=str(home), PYTHONPATH=str(KIT_ROOT))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300, cwd=home, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "persistent compilation cache" not in proc.stderr, proc.stderr[-3000:]  # no write tried, so none warned of
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_landlock
def test_a_student_reads_by_name_what_the_reference_compiled_and_can_neither_list_nor_write(tmp_path):
    cache, home = tmp_path / "compiled", tmp_path / "home"
    cache.mkdir()
    home.mkdir()
    wrote = _run("import json\ntried = {}\n" + PROGRAM, cache, home, writes=True)
    entries = sorted(p.name for p in cache.iterdir())
    assert wrote["hits"] == 0 and any(name.startswith("jit_program-") for name in entries), entries

    unseen = "\nprogram(jnp.ones((5, 2))).block_until_ready()  # a program the reference never compiled\n"
    read = _run(CONFINED.format(kit=str(KIT_ROOT)) + PROGRAM + unseen, cache, home, writes=False)
    assert read["hits"] >= 1 and read["value"] == wrote["value"], read
    assert read["tried"]["glob"] == "[]", read["tried"]  # glob hides the refusal: it finds nothing
    for name in ("listdir", "write", "mkdir"):
        assert read["tried"][name].startswith("refused"), read["tried"]
    assert sorted(p.name for p in cache.iterdir()) == entries  # nothing added, by JAX or by hand


def test_only_the_reference_writes_the_shared_cache_and_students_may_only_read_it_by_name(tmp_path):
    def plan_and_env(cache):
        box = runner.Sandbox(folder=tmp_path / "box", files={}, lessons=[], base_env={}, server=None,
                             limits=runner.Limits(lesson_cpu=16, step_cpu=4, memory=1 << 30),
                             plan_base={"confine": {"read": []}}, cache=cache)
        return box.plan()["confine"], box.env()

    shared = tmp_path / "compiled"
    confined, env = plan_and_env(runner.SharedCache(shared, writes=True))
    assert str(shared) in confined["write"] and confined["read_by_name"] == []
    assert env["JAX_LESSONS_CACHE"] == str(shared) and env["JAX_LESSONS_CACHE_WRITES"] == "on"

    confined, env = plan_and_env(runner.SharedCache(shared))
    assert str(shared) not in confined["write"] + confined["read"] and confined["read_by_name"] == [str(shared)]
    assert env["JAX_LESSONS_CACHE"] == str(shared) and env["JAX_LESSONS_CACHE_WRITES"] == "off"

    confined, env = plan_and_env(None)  # --compile-afresh, or no Landlock: a private cache, written
    assert confined["read_by_name"] == [] and str(shared) not in confined["write"]
    assert env["JAX_LESSONS_CACHE"] == str(tmp_path / "box" / "work" / "cache")
    assert env["JAX_LESSONS_CACHE_WRITES"] == "on"


def test_no_cache_is_shared_where_the_kernel_could_not_keep_it_unlisted(tmp_path, monkeypatch):
    monkeypatch.setattr(confine, "landlock_abi", lambda: 0)
    assert not grading.shares_compiles(grading.Settings(out=tmp_path, lessons=[], secret="x"))
    monkeypatch.setattr(confine, "landlock_abi", lambda: 7)
    assert grading.shares_compiles(grading.Settings(out=tmp_path, lessons=[], secret="x"))
    assert not grading.shares_compiles(grading.Settings(out=tmp_path, lessons=[], secret="x", shared_compiles=False))
