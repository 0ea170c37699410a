"""tree_flatten gives (w, b) but tree_unflatten unpacks (b, w): the rebuilt layer has its arrays swapped."""
MUST_FAIL = ["test_dense_leaves_are_its_arrays", "test_dense_name_is_static_under_jit"]
MUST_SAY = {"test_dense_leaves_are_its_arrays": ["swapped"], "test_dense_name_is_static_under_jit": ["swapped"]}


@jax.tree_util.register_pytree_node_class
class Dense(Dense):
    @classmethod
    def tree_unflatten(cls, aux_data, children):
        b, w = children
        return cls(w, b, aux_data)
