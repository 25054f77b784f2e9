"""Shared pytest set-up: the dbt harness lives in tests/dbt_harness.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
