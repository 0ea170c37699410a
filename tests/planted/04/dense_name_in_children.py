"""The layer's name is put among the children, so JAX tries to trace a string."""
MUST_FAIL = ["test_dense_leaves_are_its_arrays", "test_dense_name_is_static_under_jit"]
MUST_SAY = {"test_dense_leaves_are_its_arrays": ["among the leaves"], "test_dense_name_is_static_under_jit": ["among the children"]}


def _flatten_with_name(self):
    return (self.w, self.b, self.name), None


def _unflatten_with_name(cls, aux_data, children):
    return cls(*children)


Dense.tree_flatten = _flatten_with_name
Dense.tree_unflatten = classmethod(_unflatten_with_name)
