"""Every YAML file of the repository is clean by the repository's yamllint configuration."""

import subprocess
from pathlib import Path

from yamllint import linter
from yamllint.config import YamlLintConfig

ROOT = Path(__file__).resolve().parents[2]
CONFIG = YamlLintConfig(file=str(ROOT / ".yamllint.yaml"))


def _yaml_files() -> list[str]:
    # Tracked files and new ones not ignored, so a file is checked before its first commit.
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.yml", "*.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [path for path in listed.splitlines() if not CONFIG.is_file_ignored(path) and (ROOT / path).exists()]


def _problems(path: str, text: str) -> list[str]:
    return [f"{path}:{p.line}:{p.column} {p.message} ({p.rule})" for p in linter.run(text, CONFIG, path)]


def test_every_yaml_file_is_clean():
    files = _yaml_files()
    assert "docker-compose.yml" in files
    problems = [problem for path in files for problem in _problems(path, (ROOT / path).read_text())]
    assert not problems, "\n".join(problems)


def test_the_configuration_finds_what_it_should():
    # The check can fail: a duplicated key and trailing spaces are reported.
    assert len(_problems("bad.yaml", "a: 1\na: 2  \n")) == 2
