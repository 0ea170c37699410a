"""The package's layout: a few modules at the top (its face, the command line, the pytest plugin) and
wings below (learner, authoring, classroom, probes), with no import circle anywhere, counting the imports
made inside functions too."""
import ast

from grader import PACKAGE_DIR

TOP = {"__init__", "__main__", "cli", "pytest_plugin"}
WINGS = {"learner", "authoring", "classroom", "probes"}


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        if "kit" in path.relative_to(PACKAGE_DIR).parts:  # the student package's copy of the lessons
            continue
        parts = ("grader",) + path.relative_to(PACKAGE_DIR).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text())
    return found


def _imports(tree: ast.Module, modules) -> set[str]:
    named = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            named |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                      for a in node.names}
        elif isinstance(node, ast.Import):
            named |= {a.name for a in node.names}
    return {name for name in named if name in modules and name != "grader"}


def test_the_top_holds_only_the_face_and_the_wings():
    loose = {p.stem for p in PACKAGE_DIR.glob("*.py")}
    folders = {p.name for p in PACKAGE_DIR.iterdir() if (p / "__init__.py").is_file()}
    assert loose <= TOP, f"modules at the top of grader/ that belong in a wing: {sorted(loose - TOP)}"
    assert folders <= WINGS, f"packages under grader/ that are not a known wing: {sorted(folders - WINGS)}"


def test_no_import_circle():
    modules = _modules()
    graph = {name: _imports(tree, modules) - {name} for name, tree in modules.items()}
    circles, state, path = [], {}, []

    def visit(name):
        state[name] = "open"
        path.append(name)
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                circles.append(" -> ".join(path[path.index(other):] + [other]))
            elif other not in state:
                visit(other)
        path.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not circles, "import circles (one module must stop importing the other):\n  " + "\n  ".join(circles)


def test_the_learner_wing_needs_no_other_wing():
    """What a learner's run imports stands alone: the student package and the sandbox carry it."""
    modules = _modules()
    reaching = {f"{name} imports {other}" for name, tree in modules.items() if name.startswith("grader.learner")
                for other in _imports(tree, modules)
                if other.startswith(("grader.authoring", "grader.classroom", "grader.probes", "grader.cli"))}
    assert not reaching, sorted(reaching)


def _module_file(name: str):
    path = PACKAGE_DIR.parent.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _needed_by(paths) -> set[str]:
    """The grader modules that these files import, and what those import in turn (packages' __init__
    included), as paths relative to the kit's root."""
    modules, todo, seen = _modules(), list(paths), set()
    while todo:
        tree = ast.parse(todo.pop().read_text())
        for name in _imports(tree, modules):
            parts = name.split(".")
            for i in range(2, len(parts) + 1):  # the module and every package above it
                file = _module_file(".".join(parts[:i]))
                rel = file.relative_to(PACKAGE_DIR.parent).as_posix()
                if rel not in seen and file.is_file():
                    seen.add(rel)
                    todo.append(file)
    return seen


def test_what_lesson_tests_and_probes_import_travels_with_them():
    """The student package carries what a lesson's tests import, and the class grader's sandbox is
    staged with what the tests and the probes import (a module in a new folder is easy to leave out)."""
    from grader.authoring import student_package
    from grader.classroom import grading
    from grader.learner import targets

    lessons = targets.all_lessons()
    tests = [lesson.test_file for lesson in lessons]
    probes = sorted((PACKAGE_DIR / "probes").glob("lesson*.py"))
    packaged = set(student_package._machinery())
    staged = {p.relative_to(PACKAGE_DIR.parent).as_posix() for p in grading.staged_files()}
    assert not _needed_by(tests) - packaged, "left out of the student package: " + str(sorted(_needed_by(tests) - packaged))
    assert not _needed_by(tests + probes) - staged, \
        "left out of the sandbox's staged kit: " + str(sorted(_needed_by(tests + probes) - staged))


def test_a_module_under_its_old_path_is_the_same_module():
    """A notebook released before the wings (`import grader.nbcheck as _grading`) still runs its checks."""
    import importlib.util
    import subprocess
    import sys

    import grader

    for old, new in sorted(grader._MOVED.items()):
        assert importlib.util.find_spec(new) is not None, f"grader.{old} points at {new}, which doesn't exist"
    code = ("import grader.nbcheck as old, grader.learner.nbcheck as new; "
            "from grader.targets import all_lessons; from grader.learner import targets; "
            "assert old is new and all_lessons is targets.all_lessons; print('same')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE_DIR.parent)
    assert proc.stdout.strip() == "same", proc.stderr[-2000:]
