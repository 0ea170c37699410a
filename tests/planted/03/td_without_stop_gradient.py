"""No stop_gradient: the gradient also flows through the TD target V(s_next)."""
MUST_FAIL = ["test_td_loss_holds_the_target_fixed"]
MUST_SAY = {"test_td_loss_holds_the_target_fixed": ["left free"]}


def td_loss(theta, s, r, s_next, gamma):
    target = r + gamma * value(theta, s_next)
    return jnp.mean((target - value(theta, s)) ** 2)
