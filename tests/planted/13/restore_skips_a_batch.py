"""restore_checkpoint moves the new iterator to the saved position, then takes a batch from it (to check
it works, say): the resumed run starts one batch late and never trains on that one."""
MUST_FAIL = ["test_restore_checkpoint_resumes_bit_for_bit"]
MUST_SAY = {"test_restore_checkpoint_resumes_bit_for_bit": ["1 batch ahead"]}
MUST_NOT_SAY = {"test_restore_checkpoint_resumes_bit_for_bit": ["starts the data over"]}


def restore_checkpoint(directory, state_like, dataset):
    directory = os.path.abspath(directory)
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state_like)
    state = ocp.StandardCheckpointer().restore(os.path.join(directory, "state"), abstract)
    iterator = iter(dataset)
    with open(os.path.join(directory, "data.json")) as f:
        iterator.set_state(json.load(f))
    next(iterator)
    return state, iterator
