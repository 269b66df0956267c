"""Logging in and out in the browser, the user menu, and what a page without a
session does."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.e2e


def test_the_login_page_signs_the_admin_in_and_the_menu_shows_the_role(page, ui_platform):
    page.goto("/incidents")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fincidents$"))  # no session: to the login, and back after
    screenshot(page, "login")
    log_in(page, ui_platform.admin_email, "not-the-password", expect_success=False)
    page.get_by_role("alert").get_by_text("Email or password is wrong").wait_for()
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    expect(page).to_have_url(re.compile(r"/incidents$"))
    page.locator(".user-menu summary").click()
    assert page.locator(".user-menu .role").inner_text() == "admin"
    page.get_by_role("menuitem", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/incidents")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fincidents$"))


def test_the_login_page_has_no_serious_accessibility_violations(axe_page):
    axe_page.goto("/login")
    axe_page.get_by_label("Email").wait_for()
    assert serious_accessibility_violations(axe_page) == []
