"""The lessons' pytest set-up lives in grader/pytest_plugin.py: it selects the implementation under
test (--target) and sets up JAX's devices and precision. The installed kit loads it as a pytest
plugin; naming it here also covers a checkout used without installing."""
pytest_plugins = ["grader.pytest_plugin"]
