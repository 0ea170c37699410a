"""Clipping chained after Adam: it clips Adam's small updates, not the gradients."""
MUST_FAIL = ["test_make_optimizer_clips_the_global_norm"]
MUST_SAY = {"test_make_optimizer_clips_the_global_norm": ["after adam"]}


def make_optimizer(peak_lr, warmup_steps, total_steps, max_norm):
    schedule = optax.warmup_cosine_decay_schedule(0.0, peak_lr, warmup_steps, total_steps, 0.0)
    return optax.chain(optax.adam(schedule), optax.clip_by_global_norm(max_norm))
