"""Who may do what: roles and passwords of users, sessions and API tokens,
the actor of every incident change, single-use page links.

Why:
- users get a role (viewer, responder, admin), can be disabled, and log in
  with a password (Argon2 hash; NULL: no password set, no login). Failed
  logins are counted on the user, so the lock holds across replicas.
- auth_credentials holds sessions (the UI's cookie) and API tokens (scripts'
  Bearer), both as SHA-256 hashes of the secret: one table, since both are
  checked, expire and are revoked the same way. authenticate_credential()
  (database/sql/0008_auth/authenticate_credential.sql) is how every service checks one.
- the timeline and notes name the authenticated actor by id beside its name
  (NULL for the platform itself and for rows written before this).
- incident_link_uses remembers every page link used, so a link acts once.

Revision ID: 0008_auth
Revises: 0007_push_results
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from columns import id_column, in_check, timestamp
from frozen_sql import install

revision: str = "0008_auth"
down_revision: str | None = "0007_push_results"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL_FILES = {
    "0008_auth/authenticate_credential.sql": "2e3dabbf47f63c796d9def9c6646838a1a233a56c31330344b8d3d6eae15e5b2",
}
ROLES = ("viewer", "responder", "admin")
CREDENTIAL_KINDS = ("session", "token")
LINK_ACTIONS = ("acknowledge", "resolve")


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.String(20), nullable=False, server_default="responder"))
    op.create_check_constraint("ck_users_role", "users", in_check("role", ROLES))
    op.add_column("users", sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("users", sa.Column("password_hash", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default=sa.text("0")))
    op.add_column("users", timestamp("locked_until", nullable=True))

    op.create_table(
        "auth_credentials",
        id_column(),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        timestamp("created_at", default_now=True),
        timestamp("expires_at", nullable=True),
        timestamp("last_used_at", nullable=True),
        timestamp("revoked_at", nullable=True),
        sa.CheckConstraint(in_check("kind", CREDENTIAL_KINDS), name="ck_auth_credentials_kind"),
    )
    op.create_index("ix_auth_credentials_user", "auth_credentials", ["user_id", "kind"])

    op.add_column("incident_timeline", sa.Column("actor_id", sa.Uuid(), nullable=True))
    op.add_column("incident_notes", sa.Column("author_id", sa.Uuid(), nullable=True))
    op.create_table(
        "incident_link_uses",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("incident_id", sa.Uuid(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        timestamp("used_at", default_now=True),
        sa.CheckConstraint(in_check("action", LINK_ACTIONS), name="ck_incident_link_uses_action"),
    )
    install(SQL_FILES)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS acting_user(uuid)")
    op.execute("DROP FUNCTION IF EXISTS authenticate_credential(text, timestamptz)")
    op.drop_table("incident_link_uses")
    op.drop_column("incident_notes", "author_id")
    op.drop_column("incident_timeline", "actor_id")
    op.drop_index("ix_auth_credentials_user", "auth_credentials")
    op.drop_table("auth_credentials")
    for column in ("locked_until", "failed_logins", "password_hash", "disabled"):
        op.drop_column("users", column)
    op.drop_constraint("ck_users_role", "users", type_="check")
    op.drop_column("users", "role")
