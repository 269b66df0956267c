"""Domain code stays pure: no web framework, no database, no wall clock."""

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[3]
FORBIDDEN_IMPORTS = ("fastapi", "sqlalchemy", "starlette", "httpx", "asyncpg")


def _domain_files():
    return sorted(SERVICES.glob("*/src/*/domain/*.py"))


def test_domain_modules_import_neither_web_nor_database():
    for path in _domain_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN_IMPORTS, f"{path} imports {name}"


def test_domain_modules_take_now_as_an_argument():
    for path in _domain_files():
        source = path.read_text()
        for call in ("datetime.now(", "datetime.utcnow(", "time.time(", "date.today("):
            assert call not in source, f"{path} reads the clock ({call}); take `now` as an argument"
