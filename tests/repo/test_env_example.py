""".env.example lists every environment variable the repository reads: the
services' settings (test_configuration.py) and every variable a script, the
runner, the pipeline, the benchmarks or Compose reads by name."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_READS = re.compile(
    r"""(?:environ\.get|environ\.setdefault|getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']|environ\[["']([A-Z][A-Z0-9_]+)["']\]"""
)
# ${NAME:-default}, ${NAME:?message}, ${NAME-default}: read from the caller's environment.
SHELL_READS = re.compile(r"\$\{([A-Z][A-Z0-9_]+):?[-?]")
SHELL_FILES = ("run-pipeline.sh", "Makefile", ".ci/run", "docker-compose.yml")
# Read, but not settings an operator gives: each with why.
NOT_SETTINGS = {
    "CI": "set by CI machines (.ci/run too): the test support reads it, no service does",
}


def _tracked(*patterns: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / name for name in listed.stdout.split()]


def _read_by_name() -> dict[str, set[str]]:
    """Every variable read by name, with the files that read it (tests excluded: they set, not read, settings)."""
    found: dict[str, set[str]] = {}
    for path in _tracked("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in relative or relative.startswith("tests/") or path.name == "conftest.py":
            continue
        for match in PYTHON_READS.finditer(path.read_text()):
            found.setdefault(match.group(1) or match.group(2), set()).add(relative)
    for name in SHELL_FILES:
        for match in SHELL_READS.finditer((ROOT / name).read_text()):
            found.setdefault(match.group(1), set()).add(name)
    return found


def test_env_example_lists_every_variable_the_repository_reads():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))
    read = _read_by_name()
    assert {"DEV_NGINX", "PIPELINE_BASE_PORT", "BENCH_DATABASE_URL"} <= set(read), "the scan finds the scripts' reads"
    missing = {name: sorted(files) for name, files in read.items() if name not in documented | set(NOT_SETTINGS)}
    assert not missing, f"read but not in .env.example: {missing}"
