"""haiku_to_linen copies BatchNorm's scale and offset as they are, (1, 8), where linen keeps (8,)."""
MUST_FAIL = ["test_haiku_to_linen"]
MUST_SAY = {"test_haiku_to_linen": ["shape at ['params']['bn']['bias']: expected (8,), returned (1, 8)"]}


def haiku_to_linen(params, state):
    linen = {name: {"kernel": params[name]["w"], "bias": params[name]["b"]} for name in ("dense1", "dense2")}
    linen["bn"] = {"scale": params["bn"]["scale"], "bias": params["bn"]["offset"]}
    stats = {"mean": state["bn/~/mean_ema"]["average"].reshape(-1), "var": state["bn/~/var_ema"]["average"].reshape(-1)}
    return {"params": linen, "batch_stats": {"bn": stats}}
