"""linen_to_haiku starts each moving average's counter as the Python int 0, not an int32 array as Haiku's
init makes it."""
MUST_FAIL = ["test_linen_to_haiku"]
MUST_SAY = {"test_linen_to_haiku": ["int32"]}
_reference_linen_to_haiku = linen_to_haiku


def linen_to_haiku(variables):
    params, state = _reference_linen_to_haiku(variables)
    for ema in state.values():
        ema["counter"] = 0
    return params, state
