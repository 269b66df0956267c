"""The models in platform_db describe exactly the schema the migrations build.

A model changed without a migration, or a migration without its model, fails
here. Both comparisons run against the session's database, migrated from
scratch to head:

1. Alembic's autogenerate comparison, as `alembic revision --autogenerate`
   would see it: tables, columns, types, nullability, server defaults,
   indexes, unique constraints, foreign keys and their ON DELETE.
2. What Alembic does not compare: CHECK constraints and the WHERE of partial
   indexes. PostgreSQL's own rendering of every column, constraint and index
   (format_type, pg_get_constraintdef, pg_get_indexdef) is read from that
   database and from one built from the models alone (create_all); PostgreSQL
   normalizes both sides the same way, so the texts compare exactly.

The views published for other services (platform_db.models.base.views) are
compared column by column with the views the migrations create. Triggers and
functions (the timeline's append-only guard, ingest_alerts(), open_incident())
exist only in the migrations and are not compared, nor are the timeline's
partitions (made by the migrations and the retention worker, not by models):
the partitioned table itself is.
"""

from collections.abc import Iterator
from pprint import pformat

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from platform_db.comparison import COMPARE_OPTIONS
from platform_db.models import Base
from platform_db.models.base import views
from platform_testing import _sync_url, provisioned_database

COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
       pg_get_expr(d.adbin, d.adrelid)
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> 'alembic_version'
"""
CONSTRAINTS = """
SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relname <> 'alembic_version'
   AND NOT c.relispartition
"""
INDEXES = """
SELECT tablename, indexname, indexdef FROM pg_indexes
 WHERE schemaname = current_schema() AND tablename <> 'alembic_version'
   AND NOT (SELECT relispartition FROM pg_class
             WHERE oid = (quote_ident(schemaname) || '.' || quote_ident(tablename))::regclass)
"""


def _catalog(url: str) -> dict[str, set[tuple[object, ...]]]:
    """Every column, constraint and index of the database, as PostgreSQL renders them."""
    engine = sa.create_engine(_sync_url(url))
    try:
        with engine.connect() as conn:
            return {
                name: {tuple(row) for row in conn.execute(sa.text(sql))}
                for name, sql in (("columns", COLUMNS), ("constraints", CONSTRAINTS), ("indexes", INDEXES))
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def database_from_models(database_server: str) -> Iterator[str]:
    with provisioned_database(database_server) as url:
        engine = sa.create_engine(_sync_url(url))
        try:
            with engine.begin() as conn:
                # What the migrations install before tables can use it (0005: the
                # overrides' EXCLUDE constraint needs btree_gist; 0014: the search indexes
                # need pg_trgm); not tables, so not models.
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            Base.metadata.create_all(engine)
        finally:
            engine.dispose()
        yield url


def test_alembic_sees_no_difference_between_models_and_migrations(database_url: str) -> None:
    engine = sa.create_engine(_sync_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts=COMPARE_OPTIONS)
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], "models and migrations differ (run `alembic revision --autogenerate` to see):\n" + pformat(diff)


def test_postgres_builds_the_same_schema_from_models_and_from_migrations(
    database_url: str, database_from_models: str
) -> None:
    migrated = _catalog(database_url)
    modelled = _catalog(database_from_models)
    for kind in ("columns", "constraints", "indexes"):
        only_migrated = sorted(migrated[kind] - modelled[kind], key=str)
        only_modelled = sorted(modelled[kind] - migrated[kind], key=str)
        assert not (only_migrated or only_modelled), (
            f"{kind} differ\nmigrations only:\n{pformat(only_migrated)}\nmodels only:\n{pformat(only_modelled)}"
        )


def test_views_have_the_columns_their_descriptions_say(database_url: str) -> None:
    engine = sa.create_engine(_sync_url(database_url))
    try:
        inspector = sa.inspect(engine)
        for view in views.tables.values():
            described = {column.name: str(column.type.compile(engine.dialect)) for column in view.columns}
            created = {
                column["name"]: str(column["type"].compile(engine.dialect))
                for column in inspector.get_columns(view.name)
            }
            assert described == created, view.name
    finally:
        engine.dispose()
