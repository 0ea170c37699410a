"""Forgets He's factor 2: std sqrt(1 / fan_in) (LeCun's), which halves the signal at every ReLU layer."""
MUST_FAIL = ["test_he_std", "test_init_layer_std", "test_init_network_layer_stds",
             "test_he_keeps_the_signal_steady"]
MUST_SAY = {"test_he_std": ["sqrt(1 / fan_in)"], "test_he_keeps_the_signal_steady": ["variance 1 / fan_in"]}


def he_std(fan_in):
    return math.sqrt(1.0 / fan_in)
