"""decay_steps = total_steps - warmup_steps, as if Optax's decay_steps did not count the warm-up."""
MUST_FAIL = ["test_make_optimizer_schedule"]
MUST_SAY = {"test_make_optimizer_schedule": ["decay_steps"]}


def make_optimizer(peak_lr, warmup_steps, total_steps, max_norm):
    schedule = optax.warmup_cosine_decay_schedule(0.0, peak_lr, warmup_steps, total_steps - warmup_steps, 0.0)
    return optax.chain(optax.clip_by_global_norm(max_norm), optax.adam(schedule))
