"""Browser tests of `painclf review`: keyboard labeling in headless Chromium, answers that
survive a killed server, undo, two tabs, and the labeled file `painclf validate` accepts."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from classifier.cli import app
from classifier.dataset import load_labeled

TICKETS = [
    ("T-1", "My legs are sore from squats and now I can't control my bladder"),
    ("T-2", "my back kind of hurts sometimes, not sure why"),
    ("T-3", "glutes a bit achy after pilates yesterday"),
    ("T-4", "is the app free?"),
    ("T-5", "neck feels off after sleeping weird"),
]


@pytest.fixture
def tickets(tmp_path: Path) -> Path:
    path = tmp_path / "tickets.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket_id", "body"])
        writer.writerows(TICKETS)
    return path


class Server:
    """`painclf review` running in its own process, as a user starts it."""

    def __init__(self, tickets: Path, output: Path) -> None:
        command = str(Path(sys.executable).with_name("painclf"))
        self.output = output
        self.process = subprocess.Popen(
            [
                command,
                "review",
                str(tickets),
                "-o",
                str(output),
                "--select",
                "all",
                "--model",
                "shipped",
                "--no-browser",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self._first_line(timeout=240)
        assert line.startswith("painclf review: http://127.0.0.1:"), line
        self.url = line.split()[2]

    def _first_line(self, timeout: float) -> str:
        found: list[str] = []
        reader = threading.Thread(
            target=lambda: found.append(self.process.stdout.readline()), daemon=True
        )
        reader.start()
        reader.join(timeout)
        if not found:
            self.process.kill()
            raise AssertionError(f"the review server did not start: {self.process.stderr.read()}")
        return found[0]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def server(tickets: Path, tmp_path: Path) -> Iterator[Server]:
    running = Server(tickets, tmp_path / "answers.csv")
    yield running
    running.stop()


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return page


def shown_text(page: Any) -> str:
    return page.inner_text("#text")


def wait_answered(page: Any, count: int) -> None:
    page.wait_for_function(
        f"document.getElementById('progress').textContent.startsWith('{count} of')"
    )


def answers(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def body_of(text: str) -> str:
    return next(body for _, body in TICKETS if " ".join(body.split()) == " ".join(text.split()))


def test_keyboard_answers_survive_a_killed_server(browser: Any, server: Server) -> None:
    page = open_page(browser, server.url)
    assert "Labeling guide" in page.inner_text("header")
    given: list[tuple[str, str, str]] = []  # (text, label, urgent) as the reviewer answered

    first = shown_text(page)
    assert first == TICKETS[0][1]  # urgent first (--select all keeps file order)
    assert page.locator("#text mark").count() >= 2  # evidence highlighted
    assert "bladder" in page.inner_text("#model-urgent")
    assert page.inner_text("#urgent-state") == "yes"  # starts from the model's answer
    page.keyboard.press("2")
    wait_answered(page, 1)
    given.append((first, "pain", "1"))

    second = shown_text(page)
    page.keyboard.press("s")  # skipped: comes back at the end, nothing written
    assert shown_text(page) != second

    third = shown_text(page)
    page.keyboard.press("u")
    assert page.inner_text("#urgent-state") == "yes"
    page.keyboard.press("1")  # urgent soreness is refused on the page
    assert "never soreness" in page.inner_text("#status")
    page.keyboard.press("3")
    wait_answered(page, 2)
    given.append((third, "other", "1"))

    fourth = shown_text(page)
    page.keyboard.press("1")
    wait_answered(page, 3)
    given.append((fourth, "soreness", "0"))

    server.kill()  # no shutdown, no flush: only what was acknowledged is on disk
    rows = answers(server.output)
    assert [(r["text"], r["label"], r["urgent"]) for r in rows] == [
        (body_of(text), label, urgent) for text, label, urgent in given
    ]
    ids = {body: ticket for ticket, body in TICKETS}
    assert [r["ticket_id"] for r in rows] == [ids[r["text"]] for r in rows]
    assert rows[0]["urgent_reasons"] == "bladder_bowel"

    page.keyboard.press("2")  # the server is gone: the page says so, nothing is lost
    page.wait_for_function("document.getElementById('status').className === 'error'")
    assert "Not saved" in page.inner_text("#status")
    page.close()

    frame, problems, _ = load_labeled([server.output])
    assert len(frame) == 3 and not [p for p in problems if p.severity == "error"]
    result = CliRunner().invoke(app, ["validate", str(server.output)])
    assert result.exit_code == 0, result.output


def test_undo_two_tabs_and_restart(
    browser: Any, server: Server, tickets: Path, tmp_path: Path
) -> None:
    first_tab = open_page(browser, server.url)
    second_tab = open_page(browser, server.url)
    text = shown_text(first_tab)
    first_tab.keyboard.press("2")
    wait_answered(first_tab, 1)

    # The second tab still shows the same text: its answer is refused, not written twice.
    assert shown_text(second_tab) == text
    second_tab.keyboard.press("3")
    second_tab.wait_for_function("document.getElementById('status').className === 'error'")
    assert "already answered" in second_tab.inner_text("#status")
    assert len(answers(server.output)) == 1

    next_text = shown_text(first_tab)
    first_tab.keyboard.press("3")
    wait_answered(first_tab, 2)
    first_tab.keyboard.press("z")  # undo the last answer: removed from the file, shown again
    wait_answered(first_tab, 1)
    assert shown_text(first_tab) == next_text
    assert [r["label"] for r in answers(server.output)] == ["pain"]

    guide = urllib.request.urlopen(server.url + "guide").read().decode()
    assert "label" in guide.lower()
    first_tab.close()
    second_tab.close()

    # A restarted review on the same file continues: answered texts are not shown again.
    server.stop()
    again = Server(tickets, server.output)
    try:
        page = open_page(browser, again.url)
        assert page.inner_text("#progress").startswith("1 of 5")
        assert shown_text(page) != text
        page.close()
    finally:
        again.stop()


def test_a_foreign_output_file_is_refused(tickets: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["review", str(tickets), "-o", str(other), "--model", "shipped", "--no-browser"]
    )
    assert result.exit_code == 1
    assert "is not a painclf review file" in result.stderr
    assert other.read_text(encoding="utf-8") == "a,b\n1,2\n"


def test_cross_origin_posts_are_refused(server: Server) -> None:
    request = urllib.request.Request(
        server.url + "api/answer",
        data=b'{"key": "2", "label": "pain"}',
        headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 403
    assert not server.output.exists()


def test_queue_selections(tickets: Path) -> None:
    from classifier.review import ReviewError, build_queue

    flagged = build_queue(tickets, select="flagged", model="shipped")
    assert flagged and all(item.urgent or item.needs_review for item in flagged)
    assert flagged[0].urgent  # urgent first, then the least confident
    assert flagged[0].ticket_id == "T-1"
    suggested = build_queue(tickets, ["body"], select="suggest", count=3, model="shipped")
    # Each pick says why it is worth a look; a pick the model also doubts says so first.
    assert len(suggested) == 3
    assert {item.why for item in suggested} <= {"suggested", "needs review", "urgent"}
    assert any(item.why == "suggested" for item in suggested)
    everything = build_queue(tickets, select="all", count=4, model="shipped")
    assert [item.ticket_id for item in everything] == ["T-1", "T-2", "T-3", "T-4"]
    with pytest.raises(ReviewError, match="unknown selection"):
        build_queue(tickets, select="some")
