"""The value lists every layer shares stay importable by pure domain code."""

import ast
from pathlib import Path

import platform_db.enums

STANDARD_LIBRARY_ONLY = {"enum", "typing"}


def test_enums_import_nothing_but_the_standard_library():
    # Domain modules (which may not import a database library) take their
    # severities and statuses from here, so this module must stay plain Python.
    tree = ast.parse(Path(platform_db.enums.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= STANDARD_LIBRARY_ONLY
