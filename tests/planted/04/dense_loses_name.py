"""tree_unflatten ignores aux_data and names every rebuilt layer 'dense'."""
MUST_FAIL = ["test_dense_leaves_are_its_arrays", "test_dense_name_is_static_under_jit"]
MUST_SAY = {"test_dense_leaves_are_its_arrays": ["aux_data"]}


@jax.tree_util.register_pytree_node_class
class Dense(Dense):
    @classmethod
    def tree_unflatten(cls, aux_data, children):
        w, b = children
        return cls(w, b, "dense")
