"""`make dev` without nginx: the services still come up, and the log says the one command to run."""

import importlib.util
import logging

from .conftest import ROOT, frontdoor


def _load_dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "scripts" / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # finds `frontdoor` already loaded by conftest
    return module


def test_without_nginx_and_no_way_to_install_it_the_runner_names_the_command(monkeypatch, caplog):
    dev = _load_dev()
    monkeypatch.setattr(frontdoor, "find_nginx", lambda: None)
    monkeypatch.setattr(frontdoor, "install_nginx", lambda: None)
    with caplog.at_level(logging.WARNING, logger="dev"):
        assert dev.front_door(18001) is None
    assert frontdoor.INSTALL_COMMAND in caplog.text
