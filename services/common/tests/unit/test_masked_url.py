"""What anyone may see of a URL that is a credential: where it goes, nothing more."""

import pytest

from platform_common.auth import masked_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T000/B000/s3cr3t", "https://hooks.slack.com/…"),
        ("https://example.com/page?token=s3cr3t#s3cr3t", "https://example.com/…"),
        ("https://example.com?token=s3cr3t", "https://example.com/…"),
        ("https://hook-user:s3cr3t@alerts.example.com/in", "https://alerts.example.com/…"),
        ("https://s3cr3t@alerts.example.com:8443/in", "https://alerts.example.com:8443/…"),
        ("http://[::1]:9000/s3cr3t", "http://[::1]:9000/…"),
        ("HTTPS://Hooks.Slack.COM/s3cr3t", "https://hooks.slack.com/…"),
        # Not a URL one can tell the host of: nothing of it.
        ("s3cr3t", "…"),
        ("https://alerts.example.com:s3cr3t/in", "…"),
        ("https://[s3cr3t/in", "…"),
    ],
)
def test_only_scheme_and_host_are_shown(url, shown):
    assert masked_url(url) == shown
