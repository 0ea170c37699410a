"""Calls sys.exit(0) as the module is imported."""
BASE = "solution"
EXPECTED = 0
import sys
sys.exit(0)
