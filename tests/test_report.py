"""The HTML report of `painclf label`, checked in headless Chromium: cleaned text, highlighted
evidence, a sortable and filterable urgent table, counts per reason, an informative histogram."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pytest

from classifier.batch import label_file
from classifier.config import SAMPLE_TICKETS
from classifier.predict import Classifier
from classifier.report import confidence_bins

EXTRA = [
    ("H-1", "<p>I can&#39;t control my bladder and my back is <b>killing</b> me</p>"),
    ("H-2", "Crushing chest pain and my left arm is numb"),
    ("H-3", "back pain with a fever of 39 and chills since yesterday"),
    ("H-4", "I fell off a ladder, can&#39;t feel my feet &amp; my back hurts"),
]
HISTOGRAM_BLUE = np.array([0x5B, 0x7D, 0xB1]) / 255


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    source = folder / "tickets.csv"
    shutil.copyfile(SAMPLE_TICKETS, source)
    with source.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for ticket, body in EXTRA:
            writer.writerow([ticket, "2026-12-01T10:00:00Z", "Sam", "help", body])
    page = folder / "report.html"
    label_file(
        source,
        folder / "labeled.csv",
        text_columns=["body"],
        report=page,
        classifier=Classifier.load("shipped"),
        quiet=True,
    )
    return page


@pytest.fixture
def page(browser: Any, report: Path) -> Any:
    opened = browser.new_page(viewport={"width": 1100, "height": 900})
    opened.goto(report.as_uri())
    yield opened
    opened.close()


def visible_rows(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#urgent-table tbody tr:not([hidden])", "rows => rows.map(r => r.cells[1].textContent)"
    )


def test_urgent_texts_are_cleaned_and_highlighted(page: Any) -> None:
    table = page.inner_text("#urgent-table")
    assert "I can't control my bladder" in table
    assert "&#39;" not in table and "<p>" not in table and "&amp;" not in table
    marks = page.eval_on_selector_all("#urgent-table mark", "ms => ms.map(m => m.textContent)")
    assert "can't control my bladder" in marks
    assert page.locator("#urgent-table mark.rf").count() >= 3  # red flags stand out


def test_counts_per_reason_and_filter(page: Any) -> None:
    counts = page.eval_on_selector_all(
        "#reason-counts tr", "rows => rows.slice(1).map(r => Number(r.cells[1].textContent))"
    )
    assert len(counts) >= 3 and sum(counts) >= len(visible_rows(page))
    all_rows = visible_rows(page)
    page.select_option("#urgent-reason", "bladder_bowel")
    filtered = visible_rows(page)
    assert 1 <= len(filtered) < len(all_rows)
    assert page.inner_text("#urgent-shown") == str(len(filtered))
    first_reason = page.locator("#reason-counts a").first
    first_reason.click()  # a reason in the counts table filters the urgent table too
    assert len(visible_rows(page)) == int(
        page.inner_text("#reason-counts tr:nth-child(2) td:nth-child(2)")
    )
    page.select_option("#urgent-reason", "")
    page.fill("#urgent-search", "feel my feet")
    assert visible_rows(page) == ["H-4"]


def test_sort_by_column(page: Any) -> None:
    ids = visible_rows(page)
    page.click("#urgent-table th:nth-child(2) button")
    ascending = visible_rows(page)
    assert ascending == sorted(ids)
    page.click("#urgent-table th:nth-child(2) button")
    assert visible_rows(page) == sorted(ids, reverse=True)
    page.click("#urgent-table th:nth-child(1) button")
    rows = page.eval_on_selector_all(
        "#urgent-table tbody tr", "rows => rows.map(r => Number(r.cells[0].textContent))"
    )
    assert rows == sorted(rows)


def test_histogram_screenshot_shows_the_spread(page: Any, tmp_path: Path) -> None:
    """The histogram, as the browser draws it, has bars in several bins, not one."""
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    shot = tmp_path / "histogram.png"
    page.locator("#confidence-histogram").screenshot(path=str(shot))
    image = matplotlib.image.imread(shot)[:, :, :3]
    blue = np.all(np.abs(image - HISTOGRAM_BLUE) < 0.05, axis=2)
    columns = blue.any(axis=0)
    bars = int(np.sum(columns[1:] & ~columns[:-1]) + columns[0])
    assert bars >= 3, f"{bars} bar(s) drawn"


def test_confidence_bins_are_narrow_near_one() -> None:
    bins = confidence_bins([0.5, 0.93, 0.97, 0.985, 0.995, 0.9995, 1.0])
    assert [label for label, _ in bins][-4:] == ["0.95-0.98", "0.98-0.99", "0.99-0.999", "0.999-1"]
    assert sum(count for _, count in bins) == 7
