"""restore_checkpoint restores the state but starts the data over with a fresh iterator."""
MUST_FAIL = ["test_restore_checkpoint_resumes_bit_for_bit"]
MUST_SAY = {"test_restore_checkpoint_resumes_bit_for_bit": ["a fresh iterator starts the data over"]}


def restore_checkpoint(directory, state_like, dataset):
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state_like)
    state = ocp.StandardCheckpointer().restore(os.path.join(os.path.abspath(directory), "state"), abstract)
    return state, iter(dataset)
