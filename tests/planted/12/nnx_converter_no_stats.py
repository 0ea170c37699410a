"""linen_to_nnx copies the params but not the running mean: the NNX model keeps its initial zeros there."""
MUST_FAIL = ["test_linen_to_nnx"]
MUST_SAY = {"test_linen_to_nnx": ["the place where they differ"]}


def linen_to_nnx(variables, model):
    p, stats = variables["params"], variables["batch_stats"]["bn"]
    for name in ("dense1", "dense2"):
        getattr(model, name).kernel.set_value(jnp.asarray(p[name]["kernel"]))
        getattr(model, name).bias.set_value(jnp.asarray(p[name]["bias"]))
    model.bn.scale.set_value(jnp.asarray(p["bn"]["scale"]))
    model.bn.bias.set_value(jnp.asarray(p["bn"]["bias"]))
    model.bn.var.set_value(jnp.asarray(stats["var"]))
    return model
