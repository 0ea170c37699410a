"""stop_gradient around V(s) instead of the target: the gradient flows through the target only."""
MUST_FAIL = ["test_td_loss_holds_the_target_fixed"]
MUST_SAY = {"test_td_loss_holds_the_target_fixed": ["through the target and not through v(s)"]}


def td_loss(theta, s, r, s_next, gamma):
    target = r + gamma * value(theta, s_next)
    return jnp.mean((target - lax.stop_gradient(value(theta, s))) ** 2)
