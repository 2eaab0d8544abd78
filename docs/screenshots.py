"""Regenerate the README's screenshots from the demo workspace.

    .venv/bin/python docs/screenshots.py

Starts a dev server on a throwaway SQLite database with the demo data, logs in as the demo PM
and saves PNGs of the main pages into docs/screenshots/. Needs Chromium (/usr/bin/chromium).
"""

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PORT = 8190
BASE = f"http://127.0.0.1:{PORT}"
PRODUCT = "/products/northwind-field"
PAGES = {
    "home": "/",
    "product": f"{PRODUCT}/",
    "board": f"{PRODUCT}/board/",
    "timeline": f"{PRODUCT}/timeline/",
    "matrix": f"{PRODUCT}/matrix/",
    "insights": f"{PRODUCT}/insights/",
    "settings": f"{PRODUCT}/settings/",
    "share-links": f"{PRODUCT}/share/",
    "strategy": f"{PRODUCT}/strategy/",
    "releases": f"{PRODUCT}/releases/",
}


def main() -> None:
    database = Path(tempfile.mkdtemp()) / "screenshots.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*manage, "seed_demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(BASE + "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(BASE + "/accounts/login/")
            page.get_by_label("Email").fill("demo@waymark.example")
            page.get_by_label("Password").fill("waymark-demo")
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(BASE + "/")
            for name, path in PAGES.items():
                response = page.goto(BASE + path)
                if response is None or response.status != 200:
                    print(f"skipped {name}: {response and response.status}")
                    continue
                page.screenshot(path=str(OUT / f"{name}.png"))
                print(f"saved docs/screenshots/{name}.png")
            browser.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
