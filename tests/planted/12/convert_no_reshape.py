"""linen_to_haiku copies BatchNorm's scale and offset as linen keeps them, shape (8,), where hk.BatchNorm
keeps (1, 8)."""
MUST_FAIL = ["test_linen_to_haiku"]
MUST_SAY = {"test_linen_to_haiku": ["(1, 8)"]}
_reference_linen_to_haiku = linen_to_haiku


def linen_to_haiku(variables):
    params, state = _reference_linen_to_haiku(variables)
    params["bn"] = {"scale": variables["params"]["bn"]["scale"], "offset": variables["params"]["bn"]["bias"]}
    return params, state
