"""Browser-test fixtures (a pytest plugin loaded by the root conftest): Playwright driving Debian's Chromium (never a downloaded browser).

Browser tests skip with a message when /usr/bin/chromium is missing, except with
CI=true, where that is a failure (`make test` installs it when run as root).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("FRONTLINE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium(monkeypatch):
    """A headless Chromium for one test (started per test so nothing leaks into the next)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run browser tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django refuses
    # database calls there unless told that this test knows what it does. Scoped to
    # this test by monkeypatch, so other tests keep Django's async-safety check.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The phone pages' service worker fetches on its own; with this, its requests reach
    # context.route too, so a test can cut them off (Chromium's offline switch does not).
    monkeypatch.setenv("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser context (no cookies) whose relative URLs go to the live server."""
    context = chromium.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(15_000)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.js_errors = errors
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def sign_in():
    def sign_in(page, email: str, password: str) -> None:
        page.goto("/accounts/login/")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", password)
        page.locator("form button[type=submit], form input[type=submit]").last.click()
        page.wait_for_load_state()
        assert "/accounts/login/" not in page.url, f"sign-in as {email} failed"

    return sign_in
