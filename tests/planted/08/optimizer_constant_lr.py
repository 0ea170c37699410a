"""Adam at a constant peak_lr: the schedule is never used."""
MUST_FAIL = ["test_make_optimizer_schedule"]
MUST_SAY = {"test_make_optimizer_schedule": ["stayed at peak_lr"]}


def make_optimizer(peak_lr, warmup_steps, total_steps, max_norm):
    return optax.chain(optax.clip_by_global_norm(max_norm), optax.adam(peak_lr))
