"""Takes the square root of fan_in only: 2 / sqrt(fan_in), which makes the weights too big."""
MUST_FAIL = ["test_he_std", "test_init_layer_std", "test_init_network_layer_stds", "test_he_keeps_the_signal_steady"]
MUST_SAY = {"test_he_std": ["2 / sqrt(fan_in)"], "test_he_keeps_the_signal_steady": ["too big"]}


def he_std(fan_in):
    return 2.0 / math.sqrt(fan_in)
