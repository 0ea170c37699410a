"""The JAX lessons kit's machinery: targets, points, stubs, the pytest plugin and the command line."""
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_ROOT = PACKAGE_DIR / "kit"  # the lessons the student package carries (no solutions/)
WORKSPACE_MARKER = ".jax-lessons"  # written by `python -m grader init DIR`
HOME_ENV = "JAX_LESSONS_HOME"


def _workspace_around(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        try:
            if (candidate / WORKSPACE_MARKER).is_file():
                return candidate
        except OSError:  # a folder this process may not read (a sandbox's confinement)
            return None
    return None


def _kit_root() -> Path:
    """The folder that holds lessons/: the one JAX_LESSONS_HOME names; else a learner's workspace
    (made by `grader init`) around the current folder; else the copy of the lessons the student
    package carries (read-only, for notebooks' check cells); else the clone this package lives in."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser().resolve()
    try:
        workspace = _workspace_around(Path.cwd().resolve())
    except OSError:  # the current folder was removed
        workspace = None
    if workspace is not None:
        return workspace
    return BUNDLED_ROOT if BUNDLED_ROOT.is_dir() else PACKAGE_DIR.parent


KIT_ROOT = _kit_root()


def package_modules(*wings: str, package: Path = PACKAGE_DIR) -> list[Path]:
    """The modules at the top of `package` (this one by default) and every module under the named
    wings (learner, authoring, classroom, probes), sorted: what the student package or a sandbox carries."""
    return sorted([*package.glob("*.py"), *(p for wing in wings for p in (package / wing).rglob("*.py"))])


# -- old module paths ------------------------------------------------------------------------------
# The learner's and the authoring modules once sat at the top of the package. A notebook released
# earlier (`import grader.nbcheck as _grading`) or a script that still names an old path gets the
# module where it now lives. (grader.learner, once the learner's commands, is now their wing.)
_MOVED = {**{name: f"grader.learner.{name}" for name in (
    "bounded_loops", "datasets", "expect", "hints", "jax_errors", "jax_setup", "jaxprs", "limits", "nbcheck",
    "numbers", "plots", "points", "progress", "remember", "resume", "runs", "status", "stubs", "targets")},
    **{name: f"grader.authoring.{name}" for name in (
        "course_run", "devcheck", "gradescope", "notebooks", "student_package")}}


class _MovedModules:
    """Finds `grader.<old name>` and hands back the module at its new path (the same module object)."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        parent, _, name = fullname.rpartition(".")
        if parent != __name__ or name not in _MOVED:
            return None
        import importlib.util
        return importlib.util.spec_from_loader(fullname, _MovedModules)

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        import importlib
        import sys
        sys.modules[module.__name__] = importlib.import_module(_MOVED[module.__name__.rpartition(".")[2]])


import sys as _sys  # noqa: E402

_sys.meta_path.append(_MovedModules)
