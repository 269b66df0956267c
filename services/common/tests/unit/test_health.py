from platform_common.health import CheckResult, readiness_body


def _result(status, critical):
    return CheckResult(status=status, critical=critical, latency_ms=1.0, checked_at="t")


def test_all_up_is_ready():
    code, body = readiness_body("svc", {"database": _result("up", True), "oncall": _result("up", False)})
    assert (code, body["status"]) == (200, "ready")


def test_non_critical_dependency_down_is_degraded_but_ready():
    code, body = readiness_body("svc", {"database": _result("up", True), "oncall": _result("down", False)})
    assert (code, body["status"]) == (200, "degraded")
    assert body["dependencies"]["oncall"]["status"] == "down"


def test_critical_dependency_down_is_not_ready():
    code, body = readiness_body("svc", {"database": _result("down", True), "oncall": _result("up", False)})
    assert (code, body["status"]) == (503, "not_ready")
