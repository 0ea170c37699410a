"""The JAX lessons kit's machinery: targets, points, stubs, the pytest plugin and the command line."""
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
