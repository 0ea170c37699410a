"""Lesson 04 accepts other correct spellings: Dense's children in the order (b, w), tree tools other than
jax.tree.map, a different but right is_leaf, a running mean that copies its state first."""
from grader.learner import runs, targets

ALTERNATIVE = '''

def scale(params, factor):
    leaves, treedef = jax.tree_util.tree_flatten(params)
    return jax.tree_util.tree_unflatten(treedef, [factor * leaf for leaf in leaves])


def sizes_of_shapes(shapes):
    def is_shape(node):
        return type(node) is tuple and not any(isinstance(d, (tuple, list, dict)) for d in node)

    return jax.tree_util.tree_map(lambda s: int(math.prod(s)), shapes, is_leaf=is_shape)


@jax.tree_util.register_pytree_node_class
class Dense(Dense):
    def tree_flatten(self):
        return [self.b, self.w], self.name

    @classmethod
    def tree_unflatten(cls, aux_data, children):
        b, w = children
        return cls(w, b, aux_data)


def running_mean(state, x):
    new_state = dict(state)
    new_state["count"] = new_state["count"] + 1
    new_state["total"] = new_state["total"] + x
    return new_state["total"] / new_state["count"], new_state


def sgd_step(params, grads, lr):
    return jax.tree_util.tree_map(lambda g, p: p - lr * g, grads, params)
'''


def test_other_correct_spellings_get_full_marks(tmp_path):
    lesson = targets.find_lesson("04")
    module = lesson.module_in(tmp_path)
    module.parent.mkdir(parents=True)
    module.write_text(lesson.solution_file.read_text() + ALTERNATIVE)
    run = runs.run_lessons(["lessons/04"], str(tmp_path))
    outcomes = run.outcomes()
    wrong = {t: o for t, o in outcomes.items() if o != "passed"}
    assert outcomes and not wrong, f"{wrong}\n{run.output[-3000:]}"
