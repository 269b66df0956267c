"""Under CI nothing is skipped quietly: a test that needs a missing tool skips on
a developer's machine and fails under CI=true (platform_testing.missing, the one
way a test may skip), `.ci/run` sets CI=true, and it installs every system
package such a test names."""

import ast
import re
from pathlib import Path

import pytest

from platform_testing import missing, require_binary, require_module

ROOT = Path(__file__).resolve().parents[2]
TEST_FOLDERS = [
    ROOT / "tests",
    ROOT / "database" / "tests",
    *ROOT.glob("services/*/tests"),
    *ROOT.glob("tools/*/tests"),
]
# Every other way to skip (or expect to fail) a test.
OTHER_SKIPS = re.compile(r"pytest\.skip\(|importorskip|mark\.skip|skipif|xfail")


def _test_files() -> list[Path]:
    """Every test module and conftest of the suite, but this one (which names what it looks for)."""
    files = [path for folder in TEST_FOLDERS for path in folder.rglob("*.py") if "node_modules" not in path.parts]
    return [path for path in [*files, ROOT / "conftest.py"] if path != Path(__file__).resolve()]


def test_missing_skips_here_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-tool is not installed"):
        missing("no-such-tool", "apt-get install no-such-tool")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"no-such-tool is not installed.*apt-get install no-such-tool"):
        require_binary("no-such-tool", "apt-get install no-such-tool")
    with pytest.raises(pytest.fail.Exception, match="the Python module no_such_module is not installed"):
        require_module("no_such_module", "pip install no-such-module")
    assert require_binary("sh", "it is everywhere").endswith("/sh")


def test_no_test_skips_but_through_platform_testing():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _test_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if OTHER_SKIPS.search(line)
    ]
    assert not found, "use platform_testing.missing / require_binary / require_module instead:\n" + "\n".join(found)


def _apt_packages_required() -> dict[str, str]:
    """Each require_binary(...) of the suite: the program and the Debian package its hint names."""
    required = {}
    for path in _test_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require_binary":
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                args = [arg.value if isinstance(arg, ast.Constant) else None for arg in node.args]
                assert len(args) == 2 and all(isinstance(a, str) for a in args), f"{where}: write both as literals"
                program, install = args
                assert install.startswith("apt-get install "), f"{where}: say which Debian package has {program}"
                required[program] = install.removeprefix("apt-get install ")
    return required


def test_ci_run_sets_ci_and_installs_every_package_a_test_requires():
    script = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^export CI=true$", script, re.MULTILINE)
    installed = {package for group in re.findall(r"missing\+=\(([^)]*)\)", script) for package in group.split()}
    required = _apt_packages_required()
    assert {"nginx", "npm", "chromium", "wrk", "pgbench", "prometheus-alertmanager"} <= set(required)
    absent = {program: package for program, package in required.items() if package not in installed}
    assert not absent, f".ci/run does not install what these tests require: {absent}"
