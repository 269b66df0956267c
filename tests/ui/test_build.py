"""The UI's build: its API types come from the services' current contracts,
and what it ships stays within the JavaScript budget."""

import gzip
import json
import subprocess
from pathlib import Path

import pytest

import openapi
import webui
from platform_testing import require_binary

# The JavaScript shipped to the browser, gzipped (issue: under 250 KB).
BUDGET_BYTES = 250 * 1024


def test_the_committed_openapi_documents_are_the_services_current_ones():
    # The UI's types are generated from these: a contract change must come with
    # them written anew (scripts/openapi.py), so that the UI's build type-checks
    # against the change and fails when it breaks the UI.
    for name, document in openapi.documents().items():
        committed = (openapi.OUT / f"{name}.json").read_text()
        assert committed == openapi.render(document), f"{name}: run .venv/bin/python scripts/openapi.py"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A fresh build of the UI (npm ci first when needed), in a folder of its own."""
    require_binary("npm", "apt-get install npm")
    out = tmp_path_factory.mktemp("ui") / "dist"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEV_UI_DIST", str(out))
        assert webui.build(force=True)
    return out


def test_the_ui_builds_within_its_javascript_budget(built):
    scripts = list((built / "assets").glob("*.js"))
    assert scripts
    shipped = sum(len(gzip.compress(path.read_bytes(), 9)) for path in scripts)
    assert shipped < BUDGET_BYTES, f"{shipped / 1024:.0f} KB of JavaScript gzipped"
    html = (built / "index.html").read_text()
    # Nothing inline (the CSP allows scripts and styles from 'self' only) and nothing from elsewhere.
    assert "<script>" not in html and "<style" not in html and "http" not in html.replace("http-equiv", "")


def test_a_type_error_in_the_ui_fails_its_build(built, tmp_path):
    # The build type-checks (tsc) before it bundles: what the generated API types
    # forbid does not ship. The probe lives outside the sources, in a project that
    # extends the UI's own.
    client = webui.UI / "src" / "api" / "client"
    (tmp_path / "probe.ts").write_text(
        f'import type {{ OncallTypes }} from "{client}";\n'
        'export const me: OncallTypes["schemas"]["Me"] = { role: "root" };\n'
    )
    config = {
        "extends": str(webui.UI / "tsconfig.json"),
        "compilerOptions": {"types": []},  # vite/client resolves from the UI's folder only
        "include": [str(webui.UI / "src"), "probe.ts"],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    tsc = webui.UI / "node_modules" / ".bin" / "tsc"
    done = subprocess.run([str(tsc), "-p", str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "probe.ts" in done.stdout and '"root"' in done.stdout, done.stdout
