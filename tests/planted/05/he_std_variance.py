"""Returns He's variance 2 / fan_in instead of its square root, so the layers' weights come out far
too small and the signal dies out."""
MUST_FAIL = ["test_he_std", "test_init_layer_std", "test_init_network_layer_stds", "test_he_keeps_the_signal_steady"]
MUST_SAY = {"test_he_std": ["variance"], "test_init_layer_std": ["2 / fan_in, He's variance"],
            "test_he_keeps_the_signal_steady": ["too small"]}


def he_std(fan_in):
    return 2.0 / fan_in
