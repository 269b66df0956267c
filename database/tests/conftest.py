"""The migrations' own modules (columns, frozen_sql) are importable here as
they are for Alembic (migrations/env.py puts their folder on the path)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "migrations"))
