"""SQL that a migration installs, frozen with it.

Each file under database/sql/<revision>/ belongs to the one migration of that
revision, which records the file's SHA-256 (`SQL_FILES`) and installs it
through `install`. The history therefore replays: upgrading an old database
revision by revision installs each function as it was at that revision, not
as it is today. A function changes by a new migration with a new file; an
edit to an old file makes its migration refuse to run (and
database/tests/test_migration_history.py fail) instead of quietly rewriting
history.
"""

import hashlib
from collections.abc import Mapping
from pathlib import Path

from alembic import op

SQL = Path(__file__).resolve().parents[1] / "sql"


def install(files: Mapping[str, str]) -> None:
    """Run each file (a path under database/sql/) after checking it is the text its migration was written with."""
    for path, sha256 in files.items():
        source = (SQL / path).read_bytes()
        if hashlib.sha256(source).hexdigest() != sha256:
            raise RuntimeError(
                f"database/sql/{path} is not the text its migration installs (SHA-256 differs): a migration's SQL"
                " is history; change a function with a new migration and a new file"
            )
        # Straight to the driver: PL/pgSQL's ":=" must not be read as bind parameters.
        op.get_bind().exec_driver_sql(source.decode())
