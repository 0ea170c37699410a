"""Ends the process with os._exit(0) at import: plain pytest would report success."""
BASE = "solution"
EXPECTED = 0
import os
os._exit(0)
