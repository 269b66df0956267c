"""The migration history replays: each revision installs the SQL functions
frozen with it (database/sql/<revision>/, migrations/frozen_sql.py), so an old
database upgraded step by step gets each function as it was at that step."""

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import Script, ScriptDirectory

import frozen_sql
from platform_common.migrations import MigrationSettings, alembic_config, upgrade
from platform_testing import provisioned_database

DATABASE = Path(__file__).resolve().parents[1]
SQL = DATABASE / "sql"
FUNCTION = re.compile(r"CREATE OR REPLACE FUNCTION (\w+)\(.*?\$\$(.*?)\$\$", re.S)


def _history() -> list[Script]:
    """Every revision, base first."""
    script = ScriptDirectory.from_config(alembic_config(MigrationSettings()))
    return list(reversed(list(script.walk_revisions())))


def _frozen(script: Script) -> dict[str, str]:
    return getattr(script.module, "SQL_FILES", {})


def _bodies(path: str) -> dict[str, str]:
    """Each function a frozen file creates, by name, with its body as PostgreSQL keeps it (prosrc)."""
    return dict(FUNCTION.findall((SQL / path).read_text()))


@pytest.fixture
def empty_database(database_server: str) -> Iterator[str]:
    with provisioned_database(database_server) as url:
        yield url


def test_every_sql_file_belongs_to_the_migration_of_its_folder_unchanged():
    on_disk = {str(path.relative_to(SQL)) for path in SQL.glob("**/*.sql")}
    declared: dict[str, str] = {}
    for script in _history():
        for path, sha256 in _frozen(script).items():
            assert path.split("/")[0] == script.revision, f"{path} is installed by {script.revision}"
            declared[path] = sha256
    assert on_disk == set(declared), "every file under database/sql/ is installed by exactly its migration"
    for path, sha256 in declared.items():
        assert hashlib.sha256((SQL / path).read_bytes()).hexdigest() == sha256, f"{path} changed after its migration"


def test_each_revision_installs_the_functions_as_its_migration_froze_them(empty_database: str):
    settings = MigrationSettings(database_url=empty_database)
    expected: dict[str, str] = {}
    checked = 0
    for script in _history():
        upgrade(settings, script.revision)
        for path in _frozen(script):
            expected |= _bodies(path)
        with psycopg.connect(empty_database) as conn:
            installed = dict(
                conn.execute(
                    "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE n.nspname = 'public' AND p.proname = ANY(%s)",
                    [list(expected)],
                ).fetchall()
            )
        assert installed == expected, f"functions after {script.revision}"
        checked += len(expected)
    assert checked, "the history installs functions"


def test_a_frozen_file_edited_after_its_migration_is_refused(tmp_path: Path, monkeypatch, database_url: str):
    original = "CREATE OR REPLACE FUNCTION frozen_probe() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
    (tmp_path / "0000_probe").mkdir()
    (tmp_path / "0000_probe" / "probe.sql").write_text(original.replace("SELECT 1", "SELECT 2"))
    monkeypatch.setattr(frozen_sql, "SQL", tmp_path)
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            with pytest.raises(RuntimeError, match="not the text its migration installs"):
                frozen_sql.install({"0000_probe/probe.sql": hashlib.sha256(original.encode()).hexdigest()})
            assert conn.execute(sa.text("SELECT count(*) FROM pg_proc WHERE proname = 'frozen_probe'")).scalar() == 0
    finally:
        engine.dispose()
