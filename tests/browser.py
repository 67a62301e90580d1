"""Open a self-contained HTML page in Debian's headless Chromium (never a downloaded one), as a reader would."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def open_page(path: Path, inspect, screenshot: Path | None = None) -> tuple[list[str], list[str], object]:
    """(console and page errors, every URL requested, what `inspect(page)` returned)."""
    assert CHROMIUM.exists(), "Chromium is missing: `make browser` (part of `make test`) installs Debian's chromium"
    from playwright.sync_api import sync_playwright

    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        seen = inspect(page)
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return errors, requests, seen
