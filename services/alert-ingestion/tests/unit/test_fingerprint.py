"""Fingerprints: stable, sender keys win, variable parts ignored."""

from hypothesis import given
from hypothesis import strategies as st

from alert_ingestion.domain.fingerprint import dedup_scope, fingerprint, normalise_message


def test_sender_dedup_key_is_the_fingerprint():
    assert fingerprint(service="a", severity="high", message="m", dedup_key="abc") == "abc"


def test_numbers_ids_case_and_spacing_do_not_change_the_fingerprint():
    one = fingerprint(service="Checkout", severity="high", message="Disk 91% full on  host-7", dedup_key=None)
    two = fingerprint(service="checkout", severity="high", message="disk 93% FULL on host-12 ", dedup_key=None)
    assert one == two
    assert normalise_message("req 3f2a9c1e-1111-4222-8333-444455556666 failed") == "req <uuid> failed"
    assert normalise_message("commit deadbeef12 broke") == "commit <hex> broke"


def test_service_severity_and_words_do_change_it():
    base = fingerprint(service="a", severity="high", message="disk full", dedup_key=None)
    assert base != fingerprint(service="b", severity="high", message="disk full", dedup_key=None)
    assert base != fingerprint(service="a", severity="low", message="disk full", dedup_key=None)
    assert base != fingerprint(service="a", severity="high", message="disk empty", dedup_key=None)


@given(st.text(max_size=200), st.text(min_size=1, max_size=50))
def test_fingerprint_is_deterministic_and_64_hex(message, service):
    first = fingerprint(service=service, severity="info", message=message, dedup_key=None)
    assert first == fingerprint(service=service, severity="info", message=message, dedup_key=None)
    assert len(first) == 64
    assert all(c in "0123456789abcdef" for c in first)


@given(st.text(max_size=200))
def test_normalising_twice_changes_nothing(message):
    once = normalise_message(message)
    assert normalise_message(once) == once


def test_dedup_scope_is_the_integration_else_the_service():
    assert dedup_scope(integration_id="1234", service="x") == "1234"
    assert dedup_scope(integration_id=None, service="x") == "service:x"
