"""The overlay and dashboard in a real browser: Debian's Chromium driven by Playwright, against a real server.

Each page is loaded from a headless server; reviews and notes go through the API, and every change must show
in the page within a second. A server stopped and started again on the same port (same collection) stands for
Anki restarting: the pages wait for it, reconnect with ``since`` and carry on. Screenshots go to
``test-artifacts/``. Chromium comes from ``make browser`` (Debian's package); Playwright never downloads one.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocket, expect, sync_playwright
from support import HttpApiClient, RunningServer, WsApiClient, basic_note

from ankiconnect_live.app import App
from ankiconnect_live.headless import HeadlessRuntime
from ankiconnect_live.settings import load_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LIVE = 1000
"""Milliseconds a page has to show a change made through the API."""
RECONNECT = 6000
"""Milliseconds a page has to notice a stopped server, or to reconnect to a new one (it retries every 2 s)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (as root)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    ARTIFACTS.mkdir(exist_ok=True)
    # Playwright gives every launch a fresh, empty user-data-dir of its own.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


class Tabs:
    """Pages of the server, each in a new browser context, with what each logged to its console."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self._contexts: list[BrowserContext] = []
        self._console: dict[int, list[str]] = {}

    def open(self, url: str, width: int = 1280, height: int = 860) -> Page:
        context = self._browser.new_context(viewport={"width": width, "height": height})
        self._contexts.append(context)
        page = context.new_page()
        messages = self._console.setdefault(id(page), [])
        page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        return page

    def console(self, page: Page) -> list[str]:
        return self._console[id(page)]

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture
def tabs(browser: Browser) -> Iterator[Tabs]:
    opened = Tabs(browser)
    yield opened
    opened.close()


@pytest.fixture
def api(server: RunningServer) -> Iterator[HttpApiClient]:
    client = HttpApiClient(server.port)
    yield client
    client.close()


def live(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-state", "live", timeout=RECONNECT)


def add_notes(api: HttpApiClient, *fronts: str) -> list[int]:
    return [api.invoke("addNote", note=basic_note(front)) for front in fronts]


def answer(api: HttpApiClient, card: int, ease: int) -> None:
    assert api.invoke("answerCards", answers=[{"cardId": card, "ease": ease}]) == [True]


def new_cards(api: HttpApiClient) -> list[int]:
    return sorted(api.invoke("findCards", query="is:new"))


def retention(answers: int, again: int) -> str:
    return f"{round(100 * (answers - again) / answers)}%"


def chart(page: Page) -> list[int]:
    """The dashboard's reviews per minute, oldest first (60 bars)."""
    bars = page.locator("#rpm-chart rect")
    expect(bars).to_have_count(60)
    return [int(bar.get_attribute("data-count") or "-1") for bar in bars.all()]


def shot(page: Page, name: str, **options: Any) -> None:
    page.screenshot(path=str(ARTIFACTS / name), **options)


# The overlay


def test_overlay_follows_answers_live(server: RunningServer, api: HttpApiClient, tabs: Tabs) -> None:
    page = tabs.open(f"{server.url}/overlay", 1920, 1080)
    live(page)
    expect(page.locator("#deck-name")).to_have_text("Default", timeout=LIVE)
    expect(page.locator("#waiting")).to_be_hidden()
    add_notes(api, "one", "two", "three", "four")
    expect(page.locator("#count-new")).to_have_text("4", timeout=LIVE)
    cards = new_cards(api)
    flash = page.locator("#flash")
    for number, (card, ease, streak) in enumerate([(cards[0], 3, 1), (cards[1], 4, 2), (cards[2], 1, 0)], 1):
        answer(api, card, ease)
        name = ["again", "hard", "good", "easy"][ease - 1]
        expect(page.locator("#reviewed")).to_have_text(str(number), timeout=LIVE)
        expect(page.locator(f"#tally-{name}")).to_have_text("1", timeout=LIVE)
        expect(page.locator("#streak")).to_have_text(str(streak), timeout=LIVE)
        expect(flash).to_have_attribute("data-count", str(number), timeout=LIVE)
        expect(flash).to_have_attribute("data-ease", name)
        expect(flash).to_have_class(re.compile(r"\bflash\b"), timeout=LIVE)
        expect(flash).to_have_text(name)
    expect(page.locator("#count-new")).to_have_text("1", timeout=LIVE)
    expect(page.locator("#tally-hard")).to_have_text("0")
    shot(page, "overlay-1920x1080.png", omit_background=True)
    page.locator("#panel").screenshot(path=str(ARTIFACTS / "overlay-panel.png"), omit_background=True)
    assert not tabs.console(page), tabs.console(page)  # nothing logged: no errors, and never the key


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (480, 270), (320, 180)])
def test_overlay_is_readable_large_and_small(server: RunningServer, tabs: Tabs, width: int, height: int) -> None:
    page = tabs.open(f"{server.url}/overlay", width, height)
    live(page)
    box = page.locator("#panel").bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
    number_size = float(page.locator("#reviewed").evaluate("e => getComputedStyle(e).fontSize").removesuffix("px"))
    assert number_size >= 14 if width < 1000 else number_size >= 30
    background = page.locator("body").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgba(0, 0, 0, 0)"  # transparent: OBS shows the scene through it
    shot(page, f"overlay-{width}x{height}.png", omit_background=True)


def test_overlay_options(server: RunningServer, api: HttpApiClient, tabs: Tabs) -> None:
    page = tabs.open(f"{server.url}/overlay?theme=light&show=counts,tally&position=bottom-right&scale=1.5", 800, 450)
    live(page)
    body = page.locator("body")
    expect(body).to_have_attribute("data-theme", "light")
    for hidden in ("#deck", "#session"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("#counts")).to_be_visible()
    expect(page.locator("#tally")).to_be_visible()
    box = page.locator("#panel").bounding_box()
    assert box is not None and box["x"] + box["width"] > 700 and box["y"] + box["height"] > 400  # bottom right
    add_notes(api, "flashless")
    answer(api, new_cards(api)[0], 3)
    expect(page.locator("#tally-good")).to_have_text("1", timeout=LIVE)
    expect(page.locator("#flash")).not_to_have_attribute("data-count", re.compile(".+"))  # `flash` not shown
    shot(page, "overlay-options.png", omit_background=True)


# The dashboard


def test_dashboard_follows_reviews_notes_and_clients_live(
    server: RunningServer, api: HttpApiClient, tabs: Tabs
) -> None:
    add_notes(api, "before the page", "<b>also</b> before")
    card = new_cards(api)[0]
    answer(api, card, 1)
    # Older answers of that card: 10 minutes ago (in the chart; today, unless the day rolled over since), and
    # 3 days ago (in neither). What happened before the page opened comes from the collection.
    now = int(time.time() * 1000)
    old = [[now - ago, card, -1, 3, 1, 1, 2500, 4000, 1] for ago in (3 * 86_400_000, 600_000)]
    api.invoke("insertReviews", reviews=old)
    today = api.invoke("getNumCardsReviewedToday")
    page = tabs.open(f"{server.url}/dashboard")
    live(page)
    expect(page.locator("#today-reviews")).to_have_text(str(today), timeout=LIVE)
    expect(page.locator("#retention")).to_have_text(retention(today, again=1))
    expect(page.locator("#rpm-chart")).to_have_attribute("data-total", "2")
    assert chart(page)[49:] == [1] + [0] * 9 + [1]  # 10 minutes ago, and now (the newest minute is on the right)
    notes = page.locator("#recent-notes li .text")
    expect(notes).to_have_text(["also before", "before the page"])
    expect(page.locator("#profile")).to_have_text("Test Profile")
    expect(page.locator("#server-state")).to_have_text("connected")
    expect(page.locator("#api-key")).to_have_text("none", timeout=LIVE)
    expect(page.locator("#version")).to_contain_text("API 6")
    expect(page.locator("#ws-clients")).to_have_text("1", timeout=LIVE)  # the page's own socket

    [added] = add_notes(api, "<i>Added</i> live &amp; well")
    expect(notes.first).to_have_text("Added live & well", timeout=LIVE)
    expect(page.locator("#recent-notes li").first).to_have_attribute("data-note-id", str(added))
    expect(page.locator("#recent-notes li .meta").first).to_contain_text("Basic · Default")

    answer(api, new_cards(api)[0], 3)
    expect(page.locator("#today-reviews")).to_have_text(str(today + 1), timeout=LIVE)
    expect(page.locator("#retention")).to_have_text(retention(today + 1, again=1), timeout=LIVE)
    expect(page.locator("#today-good")).to_have_text(str(today), timeout=LIVE)
    expect(page.locator("#rpm-chart")).to_have_attribute("data-total", "3", timeout=LIVE)
    assert chart(page)[49:] == [1] + [0] * 9 + [2]
    expect(page.locator("#count-new")).to_have_text("1", timeout=LIVE)

    other = WsApiClient(server.ws_url)
    try:
        expect(page.locator("#ws-clients")).to_have_text("2", timeout=LIVE)
    finally:
        other.close()
    expect(page.locator("#ws-clients")).to_have_text("1", timeout=LIVE)

    api.invoke("deleteNotes", notes=[added])
    expect(notes).to_have_text(["also before", "before the page"], timeout=LIVE)
    shot(page, "dashboard.png", full_page=True)
    assert not tabs.console(page), tabs.console(page)


# Keys, restarts and blips


def test_pages_pass_the_key_and_never_show_it(start_server: Callable[..., RunningServer], tabs: Tabs) -> None:
    server = start_server(apiKey="s3cret-key")
    overlay = tabs.open(f"{server.url}/overlay?key=s3cret-key")
    dashboard = tabs.open(f"{server.url}/dashboard?key=s3cret-key&theme=light")
    live(overlay)
    live(dashboard)
    expect(dashboard.locator("#api-key")).to_have_text("required", timeout=LIVE)
    expect(dashboard.locator("#ws-clients")).to_have_text("2", timeout=LIVE)
    api = HttpApiClient(server.port)
    try:
        api.call({"action": "addNote", "version": 6, "key": "s3cret-key", "params": {"note": basic_note("keyed")}})
        expect(overlay.locator("#count-new")).to_have_text("1", timeout=LIVE)
        expect(dashboard.locator("#recent-notes li .text")).to_have_text(["keyed"], timeout=LIVE)
    finally:
        api.close()
    refused = overlay.goto(f"{server.url}/overlay")
    assert refused is not None and refused.status == 403
    for page in (overlay, dashboard):
        assert not [line for line in tabs.console(page) if "s3cret" in line]
    shot(dashboard, "dashboard-light.png", full_page=True)


@pytest.fixture
def restartable(collection_path: Path) -> Iterator[Callable[[int], RunningServer]]:
    """Start servers on one collection, one after the other (``port`` 0 picks one): a restarted Anki.

    A test stops each one it is done with (``RunningServer.stop``); the last one is stopped here.
    """
    running: list[RunningServer] = []

    def start(port: int) -> RunningServer:
        settings = load_settings({"webBindPort": port})
        runtime = HeadlessRuntime(settings, collection_path)
        runtime.open()
        app = App(runtime, runtime.post)
        app.start()
        running.append(RunningServer(app, runtime, collection_path))
        return running[-1]

    yield start
    if running:
        running[-1].stop()


def test_pages_wait_for_anki_and_reconnect_after_a_restart(
    restartable: Callable[[int], RunningServer], tabs: Tabs
) -> None:
    first = restartable(0)
    port = first.port
    overlay = tabs.open(f"{first.url}/overlay", 960, 540)
    dashboard = tabs.open(f"{first.url}/dashboard")
    subscriptions: list[dict[str, Any]] = []
    for page in (overlay, dashboard):
        page.on("websocket", lambda socket: _record(socket, subscriptions))
    live(overlay)
    live(dashboard)
    with closing(HttpApiClient(first.port)) as api:
        add_notes(api, "before", "after")
        answer(api, new_cards(api)[0], 3)
    expect(overlay.locator("#reviewed")).to_have_text("1", timeout=LIVE)
    expect(dashboard.locator("#today-reviews")).to_have_text("1", timeout=LIVE)

    first.stop()
    for page in (overlay, dashboard):
        expect(page.locator("body")).to_have_attribute("data-state", "waiting", timeout=RECONNECT)
    expect(overlay.locator("#waiting")).to_have_text("Waiting for Anki…")
    expect(overlay.locator("#waiting")).to_be_visible()
    expect(dashboard.locator("#connection")).to_have_text("Waiting for Anki…")
    expect(dashboard.locator("#server-state")).to_have_text("waiting for Anki")
    shot(overlay, "overlay-waiting.png", omit_background=True)
    shot(dashboard, "dashboard-waiting.png", full_page=True)

    second = restartable(port)
    for page in (overlay, dashboard):
        live(page)
    # The pages resubscribed with `since` the last event they saw (from the first server's run).
    assert any("since" in params for params in subscriptions), subscriptions
    expect(overlay.locator("#reviewed")).to_have_text("1")  # the session survived the restart
    with closing(HttpApiClient(second.port)) as api:
        answer(api, new_cards(api)[0], 4)
    expect(overlay.locator("#reviewed")).to_have_text("2", timeout=LIVE)
    expect(overlay.locator("#tally-easy")).to_have_text("1", timeout=LIVE)
    expect(overlay.locator("#streak")).to_have_text("2", timeout=LIVE)
    expect(dashboard.locator("#today-reviews")).to_have_text("2", timeout=LIVE)
    expect(dashboard.locator("#ws-clients")).to_have_text("2", timeout=LIVE)


def test_a_network_blip_misses_nothing(server: RunningServer, api: HttpApiClient, tabs: Tabs) -> None:
    """The socket drops (the server stays): the overlay resubscribes with `since` and catches up."""
    overlay = tabs.open(f"{server.url}/overlay")
    subscriptions: list[dict[str, Any]] = []
    overlay.on("websocket", lambda socket: _record(socket, subscriptions))
    live(overlay)
    add_notes(api, "a", "b")
    cards = new_cards(api)
    answer(api, cards[0], 3)
    expect(overlay.locator("#reviewed")).to_have_text("1", timeout=LIVE)
    drop_websockets(server)
    answer(api, cards[1], 3)  # while the page is reconnecting
    live(overlay)
    expect(overlay.locator("#reviewed")).to_have_text("2", timeout=LIVE)
    expect(overlay.locator("#streak")).to_have_text("2")
    assert len(subscriptions) == 2 and "since" not in subscriptions[0] and subscriptions[1]["since"] > 0


def _record(socket: WebSocket, subscriptions: list[dict[str, Any]]) -> None:
    """Keep the params of every subscribe request the page sends on this socket."""

    def sent(payload: str | bytes) -> None:
        message = json.loads(payload)
        if message.get("action") == "subscribe":
            subscriptions.append(message["params"])

    socket.on("framesent", sent)


def drop_websockets(server: RunningServer) -> None:
    """Close every WebSocket connection from the server's side, as a network blip would end them."""

    async def drop() -> None:
        for connection in list(server.app.server.ws_api.connections):
            connection.transport.abort()

    asyncio.run_coroutine_threadsafe(drop(), server.app.server.loop).result(5)
