"""What a lesson's public tests and its probe (grader/probes) both build, written once: the docstrings'
versions of the exercises that later ones build on, and the tests' own small models. One module a lesson."""
