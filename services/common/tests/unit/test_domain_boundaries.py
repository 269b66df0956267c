"""Layers stay apart: domain code is pure (no web framework, no database, no wall
clock), and use cases (usecases/) never reach back into the HTTP layer (api/)."""

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[3]
FORBIDDEN_IMPORTS = ("fastapi", "sqlalchemy", "starlette", "httpx", "asyncpg")


def _domain_files():
    files = sorted(SERVICES.glob("*/src/*/domain/*.py"))
    assert files  # a moved tree must not make these checks pass by finding nothing
    return files


def _imported(path: Path) -> list[str]:
    """Every module `path` imports, `from a import b` counted as both a and a.b."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_domain_modules_import_neither_web_nor_database():
    for path in _domain_files():
        for name in _imported(path):
            assert name.split(".")[0] not in FORBIDDEN_IMPORTS, f"{path} imports {name}"


def test_use_cases_never_import_the_api_layer():
    """usecases/ takes plain values and returns rows or plain values; api/ converts
    requests into them and them into responses, so the dependency runs one way."""
    files = sorted(SERVICES.glob("*/src/*/usecases/**/*.py"))
    assert files
    for path in files:
        package = path.relative_to(SERVICES).parts[2]
        for name in _imported(path):
            assert not (name + ".").startswith(f"{package}.api."), f"{path} imports {name}"


def test_domain_modules_take_now_as_an_argument():
    for path in _domain_files():
        source = path.read_text()
        for call in ("datetime.now(", "datetime.utcnow(", "time.time(", "date.today("):
            assert call not in source, f"{path} reads the clock ({call}); take `now` as an argument"
