"""run-pipeline.sh's secret scan: the pinned gitleaks finds a planted secret in a
throw-away repository and fails the step, and passes this repository's history."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "run-pipeline.sh"


def _pipeline(*stages: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PIPELINE), *stages],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def leaky_repository(tmp_path: Path) -> Path:
    repo = tmp_path / "leaky"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    # Made here, so that no secret-shaped string is in this repository itself.
    key_id = "AKIA" + "Q7XW3ERT5YU6IO8P"
    secret = "wJalrXUtnFEMI" + "/K7MDENG/bPxRfiCYZEXAMPLEKEY"[::-1]
    (repo / "settings.py").write_text(f'AWS_ACCESS_KEY_ID = "{key_id}"\nAWS_SECRET_ACCESS_KEY = "{secret}"\n')
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "add settings"], check=True)
    return repo


def test_a_planted_secret_fails_the_secret_scan(leaky_repository):
    run = _pipeline("secrets", PIPELINE_SOURCE=str(leaky_repository))
    assert run.returncode != 0, run.stdout + run.stderr
    assert "leaks found" in run.stdout + run.stderr
    assert "secrets   FAILED" in run.stdout
    # --redact: the finding is reported without the secret itself.
    assert "Q7XW3ERT5YU6IO8P" not in run.stdout + run.stderr


def test_this_repository_history_has_no_secret_and_the_binary_is_the_pinned_one():
    run = _pipeline("secrets")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "gitleaks 8.30.1" in run.stdout
    assert "no leaks found" in run.stdout + run.stderr


def test_an_unknown_stage_is_refused():
    run = _pipeline("deploy-to-prod")
    assert run.returncode == 2 and "unknown stage" in run.stderr


def test_bandit_finds_nothing_with_the_repositorys_configuration():
    run = _pipeline("bandit")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "bandit    passed" in run.stdout
