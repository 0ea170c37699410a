"""Stubs are generated from the solutions, and the committed ones are up to date."""
import pytest

from grader.learner import stubs

SOLUTION = '''import jax.numpy as jnp


def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    y = 2 * x
    return y
    ### END SOLUTION


class Box:
    def size(self):
        if True:
            ### BEGIN SOLUTION
            return 1
            ### END SOLUTION
'''


def test_stub_replaces_each_answer_region_with_the_placeholder_at_its_indent():
    stub = stubs.make_stub(SOLUTION)
    assert "2 * x" not in stub and "return 1" not in stub and "SOLUTION" not in stub
    assert '    """Twice x."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n' in stub
    assert "            # YOUR CODE HERE\n            raise NotImplementedError()\n" in stub
    compile(stub, "<stub>", "exec")


@pytest.mark.parametrize("broken, problem", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside the region"),
    ("def f():\n    return 1\n", "no ### BEGIN SOLUTION region"),
])
def test_broken_markers_are_refused(broken, problem):
    with pytest.raises(stubs.MarkerError, match=problem):
        stubs.make_stub(broken)


def test_committed_stubs_match_their_solutions():
    stale = [str(l.stub_file) for l in stubs.stale_stubs()]
    assert not stale, f"out of date or hand-edited: {stale}; run `python -m grader stubs`"
