"""mean_of_list returns a string; everything else is right."""
BASE = "solution"
EXPECTED = 14


def mean_of_list(values):
    return str(sum(values) / len(values))
