"""The Prometheus configuration and alert rules, checked by Prometheus' own promtool
(Debian's `prometheus` package; `.ci/run` installs it): the config and rules parse,
and every rule's unit tests pass, with every alert tested firing at least once."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
RULE_FILES = sorted((MONITORING / "rules").glob("*.yml"))
TEST_FILES = sorted((MONITORING / "tests").glob("*.test.yml"))


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool not found: apt-get install prometheus (.ci/run does)")
    return found


def _run(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True, cwd=MONITORING, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_config_and_its_rule_files_are_valid(promtool):
    out = _run(promtool, "check", "config", "prometheus.yml")
    assert f"{len(RULE_FILES)} rule files found" in out


def test_the_rules_are_valid(promtool):
    assert RULE_FILES
    _run(promtool, "check", "rules", *map(str, RULE_FILES))


def test_the_rules_unit_tests_pass(promtool):
    assert TEST_FILES
    _run(promtool, "test", "rules", *map(str, TEST_FILES))


def test_every_alert_has_a_unit_test_where_it_fires():
    alerts = {
        rule["alert"]
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    fired = {
        case["alertname"]
        for path in TEST_FILES
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts - fired == set(), "alerts without a test that sees them fire"
    assert len(alerts) == 10
