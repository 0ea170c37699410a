"""optax.clip (each value on its own, to [-max_norm, max_norm]) instead of the global norm."""
MUST_FAIL = ["test_make_optimizer_clips_the_global_norm"]
MUST_SAY = {"test_make_optimizer_clips_the_global_norm": ["global norm"]}


def make_optimizer(peak_lr, warmup_steps, total_steps, max_norm):
    schedule = optax.warmup_cosine_decay_schedule(0.0, peak_lr, warmup_steps, total_steps, 0.0)
    return optax.chain(optax.clip(max_norm), optax.adam(schedule))
