"""tree.map over shape tuples with no is_leaf at all: math.prod gets single dimensions and raises."""
MUST_FAIL = ["test_sizes_of_shapes", "test_sizes_of_shapes_in_tuples_and_lists"]
MUST_SAY = {"test_sizes_of_shapes": ["single dimension", "is_leaf"]}


def sizes_of_shapes(shapes):
    return jax.tree.map(math.prod, shapes)
