"""run-pipeline.sh's security steps: the pinned gitleaks finds a planted secret in
a throw-away repository and fails the step, and passes this repository's history;
bandit passes; pip-audit audits every pin whose vulnerability data can be
reached and names every other one (scripts/pipeline/pip_audit.py)."""

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pipeline import pip_audit

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


# --- pip-audit ------------------------------------------------------------------------------


def _vulnerability(id_: str, fixed: str, **extra: Any) -> dict[str, Any]:
    """A vulnerability as PyPI's JSON lists it."""
    return {"id": id_, "aliases": [], "summary": f"{id_} summary", "fixed_in": [fixed], **extra}


# What pip-audit answered: two pins audited (one vulnerable), the others skipped as out of reach.
PIP_AUDIT_REPORT = {
    "dependencies": [
        {"name": "audited-clean", "version": "1.0", "vulns": []},
        {
            "name": "Audited_Vulnerable",
            "version": "2.0",
            "vulns": [{"id": "PYSEC-1", "fix_versions": ["2.1"], "aliases": [], "description": "bad"}],
        },
        *(
            {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be audited: {name}"}
            for name in ("latest-vulnerable", "latest-clean", "behind-latest", "unreadable")
        ),
    ],
    "fixes": [],
}
PINS = {
    "audited-clean": "1.0",
    "audited-vulnerable": "2.0",
    "latest-vulnerable": "3.0",
    "latest-clean": "4.0",
    "behind-latest": "5.0",
    "unreadable": "6.0",
}
PROJECT_PAGES: dict[str, dict[str, Any] | str] = {
    "latest-vulnerable": {
        "info": {"version": "3.0"},
        "vulnerabilities": [
            _vulnerability("GHSA-live", "3.1"),
            _vulnerability("GHSA-gone", "3.1", withdrawn="2026-01-01T00:00:00Z"),
        ],
    },
    "latest-clean": {"info": {"version": "4.0.0"}, "vulnerabilities": []},  # the same version, spelled longer
    "behind-latest": {"info": {"version": "5.1"}, "vulnerabilities": []},
    "unreadable": "PyPI's JSON of unreadable could not be read (timed out)",
}


def test_pip_audit_falls_back_to_the_project_json_for_the_latest_release_and_names_the_rest():
    result = pip_audit.audit(PINS, PIP_AUDIT_REPORT, PROJECT_PAGES.__getitem__)
    assert set(result.audited) == {"audited-clean", "audited-vulnerable", "latest-vulnerable", "latest-clean"}
    assert set(result.not_audited) == {"behind-latest", "unreadable"}
    assert "5.1" in result.not_audited["behind-latest"]
    assert [(f.name, f.id, f.fix_versions) for f in result.findings] == [
        ("audited-vulnerable", "PYSEC-1", ("2.1",)),
        ("latest-vulnerable", "GHSA-live", ("3.1",)),
    ]
    assert pip_audit.status_of(result) == pip_audit.VULNERABLE
    lines = pip_audit.report_lines(result)
    assert "VULNERABLE: latest-vulnerable==3.0 GHSA-live (fixed in 3.1): GHSA-live summary" in lines
    assert "audited 4 of 6 pins (2 through PyPI's project JSON (the latest release), 2 through pip-audit)" in lines
    assert "NOT AUDITED (2 of 6):" in lines
    assert any(line.startswith("  behind-latest==5.0: ") for line in lines)


def test_pip_audit_passes_a_partial_run_only_as_incomplete_and_a_whole_one_as_clean():
    clean = {name: page for name, page in PROJECT_PAGES.items() if name != "latest-vulnerable"}
    pins = {name: version for name, version in PINS.items() if name not in ("audited-vulnerable", "latest-vulnerable")}
    partial = pip_audit.audit(pins, PIP_AUDIT_REPORT, clean.__getitem__)
    assert pip_audit.status_of(partial) == pip_audit.INCOMPLETE
    whole = pip_audit.audit({"audited-clean": "1.0", "latest-clean": "4.0"}, PIP_AUDIT_REPORT, clean.__getitem__)
    assert (pip_audit.status_of(whole), whole.not_audited) == (0, {})


def test_the_pip_audit_step_accounts_for_every_pin_and_flags_a_partial_run():
    pins = len(pip_audit.pins_of(ROOT / "constraints.txt"))
    run = _pipeline("pip-audit")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    audited = re.search(r"audited (\d+) of (\d+) pins", output)
    assert audited, output
    assert int(audited[2]) == pins
    missing = pins - int(audited[1])
    if missing:
        # Each pin not audited is named, and the summary says the step passed incomplete.
        assert f"NOT AUDITED ({missing} of {pins}):" in output
        assert len(re.findall(r"^      \S+==\S+: ", run.stdout, flags=re.MULTILINE)) == missing
        assert re.search(r"pip-audit passed .*\(incomplete: some pins NOT AUDITED", run.stdout), run.stdout
    else:
        assert "NOT AUDITED" not in output and "incomplete" not in run.stdout
