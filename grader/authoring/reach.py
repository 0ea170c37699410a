"""Which probes a planted mistake can change: the kit's self-check runs only those on it.

A planted mistake is the reference with some top-level definitions bound again. A probe calls the
functions its run function reads off the module (``ex.name``); each of those reads the module's globals
by name. A probe none of whose reachable names the mistake binds again runs the reference's own code on
the same hidden inputs, so it passes as it does on the reference (which the kit's tests check with
every probe): running it again proves nothing and, over some 400 planted mistakes, costs minutes.

Where the analysis can't be sure it answers "all": a planted file with a top-level statement that
could act on import (anything but definitions, imports, plain assignments and its docstring), a
probe that hands the whole module to a helper (but the lessons' ``on_documented``, which only puts
the docstrings' versions of earlier exercises in place), and code that reads its namespace by name
(``globals()``, ``getattr``, ``vars``, ``eval``...).
"""
from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from pathlib import Path

from grader import probes as probes_mod
from grader.learner import targets

EVERYTHING = None
# calls that reach a namespace's names without naming them
_OPAQUE = {"globals", "vars", "getattr", "eval", "exec", "__import__", "locals", "setattr", "delattr"}
_DECLARATIONS = {"MUST_FAIL", "MUST_PASS", "MUST_SAY", "MUST_NOT_SAY"}


def probes_it_can_change(planted: Path) -> list[str] | None:
    """The names of the lesson's probes whose result `planted` can change, or None for every one."""
    lesson = targets.find_lesson(planted.parent.name)
    rebound = _rebound(ast.parse(planted.read_text()))
    if rebound is EVERYTHING:
        return EVERYTHING
    bindings = _bindings(lesson.solution_file.read_text() + "\n\n" + planted.read_text())
    chosen = []
    for probe in probes_mod.for_lesson(lesson.number).all:
        seeds = _read_off_module(probe.run)
        reached = EVERYTHING if seeds is EVERYTHING else _reach(bindings, seeds | {probe.exercise})
        if reached is EVERYTHING or reached & rebound:
            chosen.append(probe.name)
    return chosen


def _rebound(tree: ast.Module) -> set[str] | None:
    """The top-level names a planted file binds, or None if it has a statement that could act on import."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom,
                                 ast.Assign, ast.AnnAssign)):
            return EVERYTHING
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and not all(
                isinstance(t, ast.Name) for t in (node.targets if isinstance(node, ast.Assign) else [node.target])):
            return EVERYTHING  # x.attr = ... or x[k] = ...: changes an object, not a name
        names |= _bound_by(node)
    return names - _DECLARATIONS


def _bindings(source: str) -> dict[str, list[ast.AST]]:
    """{top-level name: every statement that binds it}: a name bound twice may be read between."""
    found: dict[str, list[ast.AST]] = {}
    for node in ast.parse(source).body:
        for name in _bound_by(node):
            found.setdefault(name, []).append(node)
    return found


def _bound_by(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets_ = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets_ for n in ast.walk(t) if isinstance(n, ast.Name)}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _reach(bindings: dict[str, list[ast.AST]], seeds: set[str]) -> set[str] | None:
    """Every top-level name the statements binding `seeds` read, followed through the module."""
    reached, todo = set(), list(seeds)
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        for node in bindings.get(name, ()):
            names = _names_in(node)
            if names is EVERYTHING:
                return EVERYTHING
            todo += [n for n in names if n in bindings and n not in reached]
    return reached


def _names_in(node: ast.AST) -> set[str] | None:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if sub.id in _OPAQUE:
                return EVERYTHING
            names.add(sub.id)
    return names


@functools.lru_cache(maxsize=None)
def _read_off_module(run) -> frozenset[str] | None:
    """The names a probe's run function reads off the module it is given (its first parameter), or
    None where it passes the module itself on."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(run)))
    function = tree.body[0]
    module = function.args.args[0].arg
    attributes = {id(n.value) for n in ast.walk(function) if isinstance(n, ast.Attribute)}
    attributes |= {id(n.args[0]) for n in ast.walk(function) if _puts_documented_in_place(n)}
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == module:
            names.add(node.attr)
        elif isinstance(node, ast.Name) and node.id == module and id(node) not in attributes:
            return EVERYTHING
    return frozenset(names)


def _puts_documented_in_place(node: ast.AST) -> bool:
    """A call of a lesson's `on_documented(ex, ...)`: it only binds the docstrings' versions of the
    exercises named in place of the learner's for a while, reading nothing else of the module."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    return called.endswith("on_documented")
