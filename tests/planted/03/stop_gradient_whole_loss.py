"""stop_gradient around the whole loss: the value is right, the gradient is zero."""
MUST_FAIL = ["test_td_loss_holds_the_target_fixed"]
MUST_SAY = {"test_td_loss_holds_the_target_fixed": ["gradient was zero"]}


def td_loss(theta, s, r, s_next, gamma):
    target = r + gamma * value(theta, s_next)
    return lax.stop_gradient(jnp.mean((target - value(theta, s)) ** 2))
