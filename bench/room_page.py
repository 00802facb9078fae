"""The room page: bytes a fresh browser downloads, time until the editor is usable, and the round
trip of a Reflex event (the interviewer saves the problem, the candidate's page shows it).

Run: ``make bench`` (or ``.venv/bin/python -m bench.room_page --tries 50``). It builds and starts
the production app on a free port with a throwaway SQLite database, like ``make run``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

VIEWPORT = {"width": 1440, "height": 900}
# Usable = drawn and synced with the room (the editor is read-only until its first sync).
EDITOR_READY = "[data-synced='true'] .monaco-editor .view-lines"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def create_room(page: Page, base: str) -> str:
    page.goto(base)
    page.get_by_role("textbox", name="Interview title").fill("Benchmark")
    page.get_by_role("textbox", name="Your name").fill("Interviewer")
    page.get_by_role("button", name="Create interview").click()
    page.wait_for_url("**/i/*")
    page.wait_for_selector(EDITOR_READY)
    return page.url


def cold_load(context: BrowserContext, url: str) -> tuple[int, float]:
    """Bytes on the wire (encoded, headers included) and ms until Monaco shows its lines."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    received: list[int] = []
    cdp.on("Network.loadingFinished", lambda e: received.append(int(e["encodedDataLength"])))
    page.goto(url)
    page.wait_for_selector(EDITOR_READY)
    ready_ms = page.evaluate("performance.now()")
    page.wait_for_load_state("networkidle")
    page.close()
    return sum(received), ready_ms


def round_trips(host: Page, guest: Page, tries: int) -> list[float]:
    """ms from the interviewer's click on Save to the candidate's page showing the text."""
    samples = []
    for attempt in range(tries):
        marker = f"marker-{attempt}-{time.monotonic_ns()}"
        host.get_by_role("button", name="Edit problem").click()
        host.get_by_role("textbox", name="Problem statement").fill(marker)
        host.wait_for_timeout(400)  # the draft reaches the server (debounced input)
        guest.evaluate(
            """marker => { window.__seen = new Promise(resolve => {
                const region = document.querySelector('[aria-label="Problem"]');
                const check = () => region.textContent.includes(marker) && resolve(Date.now());
                new MutationObserver(check).observe(
                    region, {subtree: true, childList: true, characterData: true});
                check();
            }); }""",
            marker,
        )
        clicked = host.evaluate(
            """() => {
                const save = [...document.querySelectorAll('button')]
                    .find(b => b.textContent.trim() === 'Save problem');
                save.click();
                return Date.now();
            }"""
        )
        seen = guest.evaluate("window.__seen")
        samples.append(float(seen - clicked))
        host.get_by_role("button", name="Edit problem").wait_for()
    return samples


WATCH_LABEL = """label => { window.__seen = new Promise(resolve => {
    const check = () => document.querySelector(`[aria-label="${label}"]`) && resolve(Date.now());
    new MutationObserver(check).observe(
        document.body, {subtree: true, childList: true, attributes: true});
    check();
}); }"""


def presence_latency(browser: Browser, host: Page, url: str, tries: int) -> tuple[list, list]:
    """ms until the interviewer sees a candidate online after Join, and offline after the
    candidate's tab closes."""
    joins, leaves = [], []
    for attempt in range(tries):
        name = f"Guest {attempt}"
        context = browser.new_context(viewport=VIEWPORT)
        guest = context.new_page()
        guest.goto(url)
        guest.get_by_role("textbox", name="Your name").fill(name)
        host.evaluate(WATCH_LABEL, f"{name}, candidate, online")
        clicked = guest.evaluate(
            """() => {
                [...document.querySelectorAll('button')]
                    .find(b => b.textContent.trim() === 'Join interview').click();
                return Date.now();
            }"""
        )
        joins.append(float(host.evaluate("window.__seen") - clicked))
        guest.wait_for_selector(EDITOR_READY)
        host.evaluate(WATCH_LABEL, f"{name}, candidate, offline")
        closed = time.time() * 1000
        context.close()
        leaves.append(float(host.evaluate("window.__seen") - closed))
    return joins, leaves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tries", type=int, default=50)
    parser.add_argument("--loads", type=int, default=5, help="cold loads to take the median of")
    parser.add_argument("--presence", type=int, default=10, help="join/leave tries")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rivendell-bench-"))
    # No sandbox pool: its containers starting at boot would compete with the page loads.
    server = start_server(
        tmp, {"REFLEX_DB_URL": f"sqlite:///{tmp / 'bench.db'}", "RIVENDELL_EXECUTOR": "off"}
    )
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            host_context = browser.new_context(viewport=VIEWPORT)
            host = host_context.new_page()
            url = create_room(host, server.url)
            identities = host.evaluate("localStorage.getItem('rivendell-identities')")

            loads = []
            for _ in range(args.loads):
                fresh = browser.new_context(viewport=VIEWPORT)
                fresh.add_init_script(
                    f"localStorage.setItem('rivendell-identities', {json.dumps(identities)})"
                )
                loads.append(cold_load(fresh, url))
                fresh.close()

            guest_context = browser.new_context(viewport=VIEWPORT)
            guest = guest_context.new_page()
            guest.goto(url)
            guest.get_by_role("textbox", name="Your name").fill("Candidate")
            guest.get_by_role("button", name="Join interview").click()
            guest.wait_for_selector(EDITOR_READY)
            trips = round_trips(host, guest, args.tries)
            joins, leaves = presence_latency(browser, host, url, args.presence)
            browser.close()
    finally:
        stop_server(server.process)

    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {platform.system()} {platform.release()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores",
        "room_page_bytes_median": int(statistics.median(b for b, _ in loads)),
        "editor_ready_ms_median": round(statistics.median(ms for _, ms in loads)),
        "editor_ready_ms_max": round(max(ms for _, ms in loads)),
        "event_round_trip_ms_p50": round(percentile(trips, 0.5), 1),
        "event_round_trip_ms_p95": round(percentile(trips, 0.95), 1),
        "event_round_trip_ms_max": round(max(trips), 1),
        "tries": len(trips),
        "join_visible_ms_p50": round(percentile(joins, 0.5), 1),
        "join_visible_ms_max": round(max(joins), 1),
        "leave_visible_ms_p50": round(percentile(leaves, 0.5), 1),
        "leave_visible_ms_max": round(max(leaves), 1),
        "presence_tries": len(joins),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
