"""The hub and the sandbox platform as two real HTTP servers on loopback (the kit's stack)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from hub.testing.stack import ID_BOUTIQUE, Stack, free_port, live_stack

__all__ = ["ID_BOUTIQUE", "Stack", "free_port"]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with live_stack(tmp_path) as served:
        yield served


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a closed network: no background connections, no GPU, root without a sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shoot(page: Page, tmp_path: Path) -> object:
    """``shoot(name)`` saves a full-page screenshot as ``name.png``, in ``$BLUEPAID_SCREENSHOTS``
    when set (to be looked at), else in the test's folder."""
    folder = Path(os.environ.get("BLUEPAID_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
