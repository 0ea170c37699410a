"""linen_to_haiku reshapes BatchNorm's scale and bias in the dict it was given: the result is right, but
the caller's linen variables now hold (1, 8) arrays."""
MUST_FAIL = ["test_linen_to_haiku"]
MUST_SAY = {"test_linen_to_haiku": ["changed the dict it was given", "shape at"]}


def linen_to_haiku(variables):
    p, s = variables["params"], variables["batch_stats"]
    p["bn"]["scale"] = p["bn"]["scale"].reshape(1, -1)
    p["bn"]["bias"] = p["bn"]["bias"].reshape(1, -1)
    ema = lambda stat: {"average": stat.reshape(1, -1), "hidden": jnp.zeros((1, stat.size), stat.dtype),  # noqa: E731
                        "counter": jnp.zeros((), jnp.int32)}
    params = {name: {"w": p[name]["kernel"], "b": p[name]["bias"]} for name in ("dense1", "dense2")}
    params["bn"] = {"scale": p["bn"]["scale"], "offset": p["bn"]["bias"]}
    return params, {"bn/~/mean_ema": ema(s["bn"]["mean"]), "bn/~/var_ema": ema(s["bn"]["var"])}
