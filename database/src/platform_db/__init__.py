"""The shared database described once: `platform_db.models` (every table, for
the services and for Alembic's comparison) and `platform_db.enums` (the values
its CHECK constraints allow, for the migrations, the models and the APIs)."""
