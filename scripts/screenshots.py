"""Refresh docs/screenshots/: the home page, a room with two people and a run, and its playback,
light and dark.

Run: ``make screenshots``. Starts the production build on a free port with a throwaway database.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, ROOT, start_server, stop_server

OUT = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}
PROBLEM = """# Two sum

Given an array of integers `nums` and an integer `target`, return the indices of the two numbers
that add up to `target`.

- Each input has **exactly one** solution.
- You may not use the same element twice.

```text
Input:  nums = [2, 7, 11, 15], target = 9
Output: [0, 1]
```
"""

SOLUTION = """import sys


def two_sum(nums: list[int], target: int) -> list[int]:
    seen: dict[int, int] = {}
    for i, n in enumerate(nums):
        if target - n in seen:
            return [seen[target - n], i]
        seen[n] = i
    return []


nums = [int(x) for x in sys.stdin.readline().split()]
target = int(sys.stdin.readline())
print(two_sum(nums, target))
"""


def populate(host: Page, guest: Page, base: str, scheme: str) -> None:
    host.goto(base)
    host.get_by_role("textbox", name="Interview title").fill("Backend engineer — pairing round")
    host.get_by_role("textbox", name="Your name").fill("Alex Kim")
    host.get_by_role("button", name="Create interview").click()
    host.wait_for_selector(".monaco-editor .view-lines")
    host.get_by_role("button", name="Edit problem").click()
    host.get_by_role("textbox", name="Problem statement").fill(PROBLEM)
    host.wait_for_timeout(500)
    host.get_by_role("button", name="Save problem").click()
    guest.goto(host.url)
    guest.get_by_role("textbox", name="Your name").fill("Sam Lee")
    guest.screenshot(path=OUT / f"join-{scheme}.png")
    guest.get_by_role("button", name="Join interview").click()
    guest.wait_for_selector(".monaco-editor .view-lines")
    guest.wait_for_selector("[data-synced='true']")
    guest.evaluate(
        "code => Object.values(window.__rivendellEditors)[0].editor.getModel().setValue(code)",
        SOLUTION,
    )
    guest.get_by_role("textbox", name="Program input").fill("2 7 11 15\n9")
    guest.get_by_role("button", name="Run", exact=True).click()
    host.get_by_role("region", name="Output").get_by_label("Standard output").wait_for()
    host.wait_for_timeout(1500)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="rivendell-shots-"))
    server = start_server(tmp, {"REFLEX_DB_URL": f"sqlite:///{tmp / 'shots.db'}"})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for scheme in ("light", "dark"):
                host = browser.new_context(viewport=VIEWPORT, color_scheme=scheme).new_page()
                guest = browser.new_context(viewport=VIEWPORT, color_scheme=scheme).new_page()
                host.goto(server.url)
                host.wait_for_timeout(500)
                host.screenshot(path=OUT / f"home-{scheme}.png")
                populate(host, guest, server.url, scheme)
                host.screenshot(path=OUT / f"room-{scheme}.png")
                host.goto(f"{host.url}/playback")
                host.get_by_role("toolbar", name="Timeline events").get_by_role(
                    "button", name="Run by", exact=False
                ).first.click()
                host.wait_for_timeout(800)
                host.screenshot(path=OUT / f"playback-{scheme}.png")
                host.context.close()
                guest.context.close()
            browser.close()
    finally:
        stop_server(server.process)
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
