"""Pure rules: titles; and domain/ stays pure (backoff: platform_common.retry)."""

import ast
from pathlib import Path

from alert_ingestion.domain.correlation import incident_title


def test_incident_title_is_the_message_cut_to_fit():
    assert incident_title(service="s", message="  disk\n full ") == "disk full"
    assert incident_title(service="s", message="   ") == "Alert on s"
    assert len(incident_title(service="s", message="x" * 600)) == 500


def test_domain_imports_no_framework_and_reads_no_clock():
    for path in (Path(__file__).parents[2] / "src" / "alert_ingestion" / "domain").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {
            node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not imported & {"fastapi", "sqlalchemy", "httpx", "starlette"}, path
        assert ".now(" not in path.read_text(), path
