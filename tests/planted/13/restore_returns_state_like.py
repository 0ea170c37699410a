"""restore_checkpoint moves the iterator but hands back state_like: the run goes on from fresh params."""
MUST_FAIL = ["test_restore_checkpoint_resumes_bit_for_bit"]
MUST_SAY = {"test_restore_checkpoint_resumes_bit_for_bit": ["not state_like"]}
MUST_PASS = ["test_save_checkpoint_writes_the_state_and_the_position"]


def restore_checkpoint(directory, state_like, dataset):
    iterator = iter(dataset)
    with open(os.path.join(directory, "data.json")) as f:
        iterator.set_state(json.load(f))
    return state_like, iterator
