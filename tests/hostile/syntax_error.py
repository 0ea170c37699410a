"""A file Python can't read as a whole: one function has a syntax error. The grader grades the file
one top-level definition at a time, so only `set_first` is lost to it (the stub's others score
nothing anyway), and its test says which line holds the error."""
BASE = "stub"
EXPECTED = 0


def set_first(x, value:
    pass
