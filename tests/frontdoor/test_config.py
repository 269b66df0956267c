"""The shipped nginx configuration: it renders, nginx accepts it, and its documentation names every setting."""

import re
import subprocess

import pytest

from .conftest import ROOT, frontdoor

TEMPLATE = frontdoor.TEMPLATE.read_text()


def test_the_shipped_template_rendered_for_local_ports_passes_nginx_t(nginx, tmp_path):
    door = frontdoor.FrontDoor(
        tmp_path / "nginx",
        frontdoor.Upstreams.from_base_port("127.0.0.1", 8001),
        http_port=8080,
        https_port=8443,
        tls_dir=tmp_path / "tls",
        nginx=nginx,
    )
    report = door.check()
    assert "test is successful" in report
    rendered = (tmp_path / "nginx" / "conf" / "frontdoor.conf").read_text()
    assert not frontdoor.PLACEHOLDER.search(rendered)
    assert "server 127.0.0.1:8003;" in rendered


def test_nginx_t_fails_on_a_broken_rendering(nginx, tmp_path, monkeypatch):
    # The check can fail: a TLS key that is not there is refused by nginx -t.
    door = frontdoor.FrontDoor(
        tmp_path / "nginx",
        frontdoor.Upstreams.from_base_port("127.0.0.1", 8001),
        http_port=8080,
        https_port=8443,
        tls_dir=tmp_path / "tls",
        nginx=nginx,
    )
    values = door.values()
    monkeypatch.setattr(door, "values", lambda: {**values, "NGINX_TLS_CERTIFICATE_KEY": str(tmp_path / "none.key")})
    with pytest.raises(subprocess.CalledProcessError) as failure:
        door.check()
    assert "none.key" in failure.value.stderr


def test_render_substitutes_placeholders_and_keeps_nginx_variables():
    assert frontdoor.render("proxy_pass http://${NGINX_X}$request_uri;", {"NGINX_X": "a:1"}) == (
        "proxy_pass http://a:1$request_uri;"
    )
    with pytest.raises(frontdoor.MissingValues, match="NGINX_Y"):
        frontdoor.render("${NGINX_X} ${NGINX_Y}", {"NGINX_X": "1"})


def test_every_placeholder_is_braced_given_locally_and_documented(tmp_path):
    # envsubst also replaces $NAME without braces; the template only ever uses ${NAME}.
    assert not re.search(r"\$NGINX_", TEMPLATE)
    names = set(frontdoor.PLACEHOLDER.findall(TEMPLATE))
    local = frontdoor.local_front_door(8001)
    local.tls_dir = tmp_path
    assert names == local.values().keys()
    header = TEMPLATE.split("upstream ", 1)[0]
    readme = (ROOT / "web-ui" / "nginx" / "README.md").read_text()
    for name in names:
        assert f"#   {name} " in header, f"{name} not described in the template's header"
        assert f"`{name}`" in readme, f"{name} not in web-ui/nginx/README.md"


def test_no_tls_key_or_certificate_is_committed_and_data_is_ignored():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert not [path for path in tracked.splitlines() if re.search(r"\.(key|pem|crt|p12)$", path)]
    ignored = subprocess.run(
        ["git", "check-ignore", "data/tls/localhost.key", "data/nginx/conf/nginx.conf"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ignored.stdout.split() == ["data/tls/localhost.key", "data/nginx/conf/nginx.conf"]
