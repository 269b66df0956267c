"""The web UI in a real browser against the real platform: `make dev`'s runner
(scripts/dev.py: the four services, the UI built and served by nginx) on free
ports and a database of its own, and headless Chromium (Debian's, driven by
Playwright). Screenshots of every page go to data/ui-screenshots/."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from platform_testing import LocalRunner, login_token, provisioned_database, require_binary

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "data" / "ui-screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class RunningPlatform:
    url: str  # the front door (nginx, plain HTTP)
    services: dict[str, str]  # service name -> its own base URL
    admin_email: str
    admin_password: str
    log: Path
    secrets: dict[str, str]  # what the runner made (data/dev-secrets.json's fields)

    def admin_api(self) -> httpx.Client:
        """An admin's API client through the front door, for setting data up fast."""
        headers = login_token(self.services["oncall-service"], self.admin_email, self.admin_password)
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


@pytest.fixture(scope="session")
def ui_platform(database_server: str, tmp_path_factory) -> Iterator[RunningPlatform]:
    require_binary("nginx", "apt-get install nginx")
    require_binary("npm", "apt-get install npm")
    folder = tmp_path_factory.mktemp("ui-platform")
    env = {
        # A build of this run's own: what the tests see is the checkout's sources now.
        "DEV_UI_DIST": str(folder / "dist"),
        # Pages arrive in the test's time, and escalations wait.
        "NOTIFICATION_POLL_SECONDS": "0.2",
        "INCIDENT_WORKER_INTERVAL_SECONDS": "0.5",
    }
    with (
        provisioned_database(database_server) as database_url,
        LocalRunner(ROOT, folder, env, database_url=database_url) as runner,
    ):
        made = runner.secrets
        yield RunningPlatform(
            runner.url, runner.services, made["ADMIN_EMAIL"], made["ADMIN_PASSWORD"], runner.log_path, made
        )


@pytest.fixture(scope="session")
def browser():
    chromium = require_binary("chromium", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, ui_platform):
    """A fresh browser tab on the front door, under the real CSP. What the page
    logs as an error (a CSP refusal, an exception) fails the test at the end."""
    context = browser.new_context(base_url=ui_platform.url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda message: message.type == "error" and errors.append(message.text))
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    # A refused request (401/403/404/409 on purpose) is logged by the browser too: not a page error.
    unexpected = [e for e in errors if "Failed to load resource" not in e]
    assert not unexpected, f"the page logged errors: {unexpected}"


@pytest.fixture
def axe_page(browser, ui_platform):
    """A tab for axe-core's check, which it injects as a script: the one place the CSP is bypassed."""
    context = browser.new_context(base_url=ui_platform.url, viewport=DESKTOP, bypass_csp=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def log_in(page, email: str, password: str, *, expect_success: bool = True) -> None:
    """Log in through the login page, as a person does."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if expect_success:
        expect(page).not_to_have_url(re.compile(r"/login"))


def loaded(page, *signs) -> None:
    """Wait until the page shows its data: its heading, nothing still saying it is
    loading (states.tsx's Loading, an aria-busy count), and each of `signs` visible."""
    expect(page.locator("h1").first).to_be_visible()
    expect(page.locator(".state.loading, [aria-busy='true']")).to_have_count(0)
    for sign in signs:
        expect(sign).to_be_visible()


def screenshot(page, name: str) -> None:
    """The page as it is now, at desktop and at phone width, into data/ui-screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(100)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(size)


AXE = ROOT / "web-ui" / "node_modules" / "axe-core" / "axe.min.js"


def serious_accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
