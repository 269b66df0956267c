"""platform_testing.ServiceProcess: a real service as a process for the end-to-end tests and benches."""

import pytest

from platform_testing import ServiceProcess

pytestmark = pytest.mark.e2e


def test_a_service_started_again_keeps_what_it_logged_before(clean_database, tmp_path):
    # A fault run kills a service and starts it again: the log of the crash is what explains it.
    service = ServiceProcess(
        "oncall_service", {"DATABASE_URL": clean_database, "ENVIRONMENT": "test"}, log_dir=tmp_path
    )
    service.start()
    service.kill()
    before = service.output()
    assert before
    service.start()
    service.stop()
    after = service.output()
    assert after.startswith(before)
    assert len(after) > len(before)
