"""save_checkpoint saves the training state but not the data iterator's position."""
MUST_FAIL = ["test_save_checkpoint_writes_the_state_and_the_position"]
MUST_SAY = {"test_save_checkpoint_writes_the_state_and_the_position": ["data.json"]}
MUST_PASS = ["test_restore_checkpoint_resumes_bit_for_bit"]


def save_checkpoint(directory, state, iterator):
    ckptr = ocp.StandardCheckpointer()
    ckptr.save(os.path.join(os.path.abspath(directory), "state"), state)
    ckptr.wait_until_finished()
