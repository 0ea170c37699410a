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
