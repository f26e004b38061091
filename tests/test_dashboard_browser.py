"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright, opens the
pages a real `meterseal dashboard` process serves on a seeded store, checks the ranking, uses
the filter form, follows a link to a thief's page and reads its timeline — then saves the
screenshots the README shows (docs/screenshots/)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.analytics_helpers import THIEF_BOUNDED, THIEF_EXACT, seed_store
from tests.dashboard_helpers import dashboard

DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("no Chromium: apt-get install chromium (.ci/run does)")
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    d = tmp_path_factory.mktemp("browser")
    with dashboard(seed_store(f"sqlite:///{d}/s.db", d / "fleet")) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    yield pg
    pg.close()


def _shot(page: Page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / name), full_page=True)


def test_the_ranking_in_a_browser(site: str, page: Page) -> None:
    page.goto(site + "/")
    rows = page.locator("#ranking tbody tr")
    assert rows.count() == 36
    top = [rows.nth(i).get_attribute("data-address") for i in range(2)]
    assert set(top) == {THIEF_EXACT, THIEF_BOUNDED}
    scores = [float(rows.nth(i).locator("td.score").inner_text()) for i in range(5)]
    assert scores == sorted(scores, reverse=True)
    _shot(page, "dashboard-ranking.png")


def test_the_filter_form_makes_a_shareable_link(site: str, page: Page) -> None:
    page.goto(site + "/")
    page.select_option("select[name=feeder]", "F1")
    page.click("button[type=submit]")
    page.wait_for_url("**/?feeder=F1*")
    feeders = page.locator("#ranking tbody tr td:nth-child(4)").all_inner_texts()
    assert feeders and set(feeders) == {"F1"}
    shared = page.locator("#share").get_attribute("href")
    assert shared and "feeder=F1" in shared
    page.goto(site + shared)  # the link opens the same view
    assert page.locator("#ranking tbody tr td:nth-child(4)").all_inner_texts() == feeders


def test_a_thiefs_timeline_in_a_browser(site: str, page: Page) -> None:
    page.goto(site + "/")
    page.click(f"#ranking a[href='/meter/{THIEF_EXACT}']")
    page.wait_for_url(f"**/meter/{THIEF_EXACT}")
    assert page.locator("h1").inner_text() == f"Meter {THIEF_EXACT}"
    assert "time exact" in page.locator("#reasons").inner_text()
    opening = page.locator("#timeline circle.opening.exact")
    assert opening.count() == 1 and opening.is_visible()
    assert "2026-04-25 21:00+08:00" in opening.locator("title").text_content()  # type: ignore
    assert page.locator("#timeline rect.outage").count() == 2
    assert page.locator("#timeline path.event-clear").count() == 1
    assert page.locator("#usage polyline.mine").is_visible()
    kinds = page.locator("#events tr.event td:first-child").all_inner_texts()
    assert kinds == ["outage", "outage", "opening", "event clear"]
    _shot(page, "dashboard-meter.png")


def test_a_bounded_opening_is_an_interval_in_a_browser(site: str, page: Page) -> None:
    page.goto(f"{site}/meter/{THIEF_BOUNDED}")
    interval = page.locator("#timeline rect.bounded")
    box = interval.bounding_box()
    assert box is not None and box["width"] >= 4
    assert page.locator("#timeline rect.local-cut").count() == 1


def test_a_feeder_and_an_unknown_meter_in_a_browser(site: str, page: Page) -> None:
    page.goto(site + "/feeder/F2")
    assert page.locator("#feeder").is_visible()
    _shot(page, "dashboard-feeder.png")
    response = page.goto(site + "/meter/000000000000")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
