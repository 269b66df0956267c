"""The value lists every layer shares stay importable by pure domain code."""

import ast
from pathlib import Path

import platform_common.roles
import platform_db.enums

STANDARD_LIBRARY_ONLY = {"enum", "typing"}
# The roles live beside the auth checks that read them; plain Python as well.
PLAIN_MODULES = {"platform_common.roles"}


def _imports(module) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return imported | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_enums_import_nothing_but_the_standard_library():
    # Domain modules (which may not import a database library) take their
    # severities and statuses from here, so this module must stay plain Python.
    assert _imports(platform_db.enums) <= STANDARD_LIBRARY_ONLY | PLAIN_MODULES
    assert _imports(platform_common.roles) <= STANDARD_LIBRARY_ONLY
