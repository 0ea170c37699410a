"""Each leaf of the gradient clipped to norm max_norm on its own, instead of one factor for the global norm."""
MUST_FAIL = ["test_make_optimizer_clips_the_global_norm"]
MUST_SAY = {"test_make_optimizer_clips_the_global_norm": ["every leaf was scaled", "global norm"]}


def make_optimizer(peak_lr, warmup_steps, total_steps, max_norm):
    schedule = optax.warmup_cosine_decay_schedule(0.0, peak_lr, warmup_steps, total_steps, 0.0)

    def clip_each_leaf():
        def update(updates, state, params=None):
            def clip(g):
                norm = jnp.sqrt(jnp.sum(g ** 2))
                return jnp.where(norm > max_norm, g * (max_norm / norm), g)
            return jax.tree.map(clip, updates), state
        return optax.GradientTransformation(lambda params: optax.EmptyState(), update)

    return optax.chain(clip_each_leaf(), optax.adam(schedule))
