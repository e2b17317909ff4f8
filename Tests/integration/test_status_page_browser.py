"""The status page in a real browser (Debian's Chromium, headless, driven by Selenium): invites
of every route go in over SMTP and one message ends in the dead-letter queue; the page then
shows what a person looks for: the rows with their routes, the route counts, charts with drawn
points, the failure reason in plain words, the dead letter with its reason, a download link
that works; off loopback it needs the token. No console errors, and no request leaves 127.0.0.1."""

import json
import os
import shutil
import time
import urllib.parse
from pathlib import Path

import pytest

from operations_support import NO_CALENDAR_REASON, get, http_port, itip, not_an_invite
from pipeline_support import RECIPIENT, send
from test_pipeline_embedded import FAST_RETRY, dead_letters, wait_for_lines

TOKEN = "browser-test-token-0123456789"
WAIT_SECONDS = 30


def browser(tmp_path: Path):
    """Headless Chromium with its console and network (performance) logs, and nothing of its own
    that reaches out: no background networking, component updates, sync or proxy lookup."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "chromium and chromium-driver are needed (scripts/install-deps.sh --with-test-tools)"
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look anything up
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-default-apps", "--disable-extensions", "--no-first-run", "--no-default-browser-check",
                     "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
                     "--no-proxy-server", "--window-size=1400,1800", f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def console_errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


INTERNAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}


def left_loopback(urls: list[str]) -> list[str]:
    """The requests that went to the network anywhere but 127.0.0.1 (the browser's own
    chrome:// and data: pages do not reach the network)."""
    return [url for url in urls if urllib.parse.urlparse(url).scheme not in INTERNAL_SCHEMES
            and urllib.parse.urlparse(url).hostname != "127.0.0.1"]


def wait_until(driver, script: str, what: str):
    """Evaluates `script` in the page until it returns something truthy."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            driver.save_screenshot("/tmp/cis-status-page-failure.png")
            pytest.fail(f"{what}: not on the page after {WAIT_SECONDS} s; page text:\n"
                        + driver.find_element("tag name", "body").text)
        time.sleep(0.3)


def table(driver, table_id: str) -> list[list[str]]:
    return driver.execute_script(
        f"return [...document.querySelectorAll('#{table_id} tbody tr')]"
        ".map(tr => [...tr.children].map(td => td.textContent));")


def test_the_status_page_shows_every_route_the_dead_letter_and_the_failure_reason(start_cis, tmp_path: Path):
    # A message whose stored object vanished: its notification fails for good (a dead letter).
    first = start_cis("--recipient", RECIPIENT, "--http-listen", "off")
    lost_id = send(first.port, itip("REQUEST", "lost@example.com", summary="Lost"))
    assert first.stop() == 0
    [stored] = list((first.data_dir / "objects").rglob(lost_id))
    stored.unlink()

    cis = start_cis("--recipient", RECIPIENT, "--http-listen", "127.0.0.1:0", "--max-receive-count", "1", *FAST_RETRY,
                    data_dir=first.data_dir, consumer=True)
    port = http_port(cis)
    deadline = time.monotonic() + WAIT_SECONDS
    while not dead_letters(cis.data_dir):
        assert time.monotonic() < deadline, "no dead letter:\n" + "\n".join(cis.lines)
        time.sleep(0.2)

    sent = {}
    sent["create"] = send(cis.port, itip("REQUEST", "weekly@example.com", summary="Weekly sync"))
    wait_for_lines(cis.data_dir, "create", 1, lambda: "\n".join(cis.lines))
    sent["update"] = send(cis.port, itip("REQUEST", "weekly@example.com", sequence=1, summary="Weekly sync (moved)"))
    sent["cancel"] = send(cis.port, itip("CANCEL", "weekly@example.com", sequence=2, summary="Weekly sync"))
    sent["reply"] = send(cis.port, itip("REPLY", "offsite@example.com", summary="Offsite", attendee_status="ACCEPTED"))
    sent["failure"] = send(cis.port, not_an_invite())
    for route in ["update", "cancel", "reply", "failure"]:
        wait_for_lines(cis.data_dir, route, 1, lambda: "\n".join(cis.lines))

    driver = browser(tmp_path)
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        assert driver.title == "cis status"
        wait_until(driver, "return document.querySelectorAll('#messages tbody tr').length >= 5", "five message rows")
        wait_until(driver, "return [...document.querySelectorAll('#messages tbody tr td.status')]"
                           ".filter(td => td.textContent === 'published').length >= 5", "five published rows")
        rows = {row[0]: row for row in driver.execute_script(
            "return [...document.querySelectorAll('#messages tbody tr')]"
            ".map(tr => [tr.dataset.messageId, ...[...tr.children].map(td => td.textContent)]);")}
        for route, message_id in sent.items():
            row = rows[message_id]
            # id, time, client, sender, size, TLS, route, UID, summary, status, reason, link
            assert row[2] == "127.0.0.1" and row[3] == "olivia@example.com", row
            assert row[6] == route, row
            assert row[9] == "published", row
        assert rows[sent["create"]][7] == "weekly@example.com" and rows[sent["create"]][8] == "Weekly sync"
        assert rows[sent["update"]][8] == "Weekly sync (moved)"
        assert rows[sent["failure"]][10].startswith(NO_CALENDAR_REASON), rows[sent["failure"]]
        assert rows[sent["create"]][10] == ""

        counts = dict(table(driver, "routes"))
        assert counts == {"create": "1", "update": "1", "cancel": "1", "reply": "1", "failure": "1", "dead-letter": "1"}, counts
        reasons = table(driver, "reasons")
        assert any(reason.startswith(NO_CALENDAR_REASON) and count == "1" for reason, count in reasons), reasons

        # The charts have drawn points: six messages in, six through the consumer.
        assert driver.execute_script("return document.querySelectorAll('#intake-chart circle.count-point').length") >= 1
        assert driver.execute_script("return document.querySelectorAll('#consumer-chart circle.count-point').length") >= 1
        assert driver.execute_script("return document.querySelectorAll('#consumer-chart circle.latency-point').length") >= 1
        drawn = driver.execute_script(
            "return [...document.querySelectorAll('#intake-chart circle.count-point')].map(c => +c.getAttribute('cy'))")
        assert all(0 < y < 170 for y in drawn), drawn

        # The dead letter, with the reason the consumer gave up.
        [dead] = table(driver, "dead-letters")
        assert dead[2] == "1"
        assert dead[3].startswith("The stored message could not be read ("), dead
        assert "no object" in dead[3], dead

        # The download link gives the stored message.
        href = driver.execute_script(
            f"return document.querySelector('tr[data-message-id=\"{sent['create']}\"] a').getAttribute('href')")
        status, headers, body = get(port, href)
        assert status == 200 and b"SUMMARY:Weekly sync" in body

        assert driver.find_element("id", "readiness").text.startswith("Ready:")
        driver.save_screenshot(str(tmp_path / "status-page.png"))
        assert console_errors(driver) == []
        urls = requested_urls(driver)
        assert any(url.endswith("/api/activity") for url in urls), urls
        assert left_loopback(urls) == []
    finally:
        driver.quit()
    assert cis.stop() == 0


def test_the_status_page_off_loopback_needs_the_token(start_cis, tmp_path: Path):
    cis = start_cis("--http-listen", "0.0.0.0:0", "--http-token", TOKEN)
    port = http_port(cis)
    driver = browser(tmp_path)
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        assert "This page needs the token" in driver.find_element("tag name", "body").text
        driver.get_log("browser")  # the 401 above is the expected console error; start afresh
        driver.get(f"http://127.0.0.1:{port}/?token={TOKEN}")
        wait_until(driver, "return document.getElementById('readiness').textContent.startsWith('Ready:')", "readiness")
        wait_until(driver, "return document.getElementById('intake-chart').children.length > 0", "the charts")
        assert console_errors(driver) == []
        urls = requested_urls(driver)
        assert any("/api/activity" in url for url in urls), urls
        assert left_loopback(urls) == []
    finally:
        driver.quit()
    assert cis.stop() == 0
