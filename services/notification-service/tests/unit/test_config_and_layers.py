"""Configuration fails fast; the domain stays pure."""

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

from notification_service.config import Settings

DOMAIN = Path(__file__).parents[2] / "src" / "notification_service" / "domain"


def test_default_webhook_secret_is_refused_outside_local_runs():
    deployed = {"database_url": "postgresql://db/x", "internal_tokens": "internal-token-of-the-config-tests"}
    with pytest.raises(ValidationError, match="NOTIFICATION_WEBHOOK_SECRET"):
        Settings(environment="prod", **deployed)
    with pytest.raises(ValidationError, match="NOTIFICATION_WEBHOOK_SECRET is shorter than 32 characters"):
        Settings(environment="prod", notification_webhook_secret="s", **deployed)
    Settings(environment="prod", notification_webhook_secret="webhook-secret-of-the-config-tests", **deployed)


def test_lease_must_outlast_a_send():
    with pytest.raises(ValidationError, match="NOTIFICATION_LEASE_SECONDS"):
        Settings(notification_lease_seconds=5, notification_http_timeout_seconds=10)


def test_tls_modes_exclude_each_other():
    with pytest.raises(ValidationError, match="SMTP_STARTTLS"):
        Settings(smtp_starttls=True, smtp_ssl=True)


def test_missing_template_folder_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="NOTIFICATION_TEMPLATES_DIR"):
        Settings(notification_templates_dir=tmp_path / "missing")


def test_domain_imports_no_framework_or_database():
    for path in DOMAIN.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not {name for name in imported if name.split(".")[0] in ("fastapi", "sqlalchemy", "httpx")}, path
