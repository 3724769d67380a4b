"""requestPermission from a page that is not allowed yet: Anki asks the user, without blocking anything."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from anki_harness import AnkiSession, wait_until
from support import HttpReply, http_post

SITE = "https://reader.example"


@pytest.fixture
def restore_config(anki: AnkiSession) -> Iterator[None]:
    addon = anki.addon
    config = addon.mw.addonManager.getConfig(addon.package)
    yield
    addon.mw.addonManager.writeConfig(addon.package, config)
    addon.on_config_updated(config)


def _ask_in_background(anki: AnkiSession, origin: str, replies: list[HttpReply]) -> threading.Thread:
    port = anki.port
    body: dict[str, Any] = {"action": "requestPermission", "version": 6}
    thread = threading.Thread(target=lambda: replies.append(http_post(port, body, headers={"Origin": origin})))
    thread.start()
    return thread


def _dialog(anki: AnkiSession, origin: str) -> Any:
    wait_until(lambda: origin in anki.addon.permission.dialogs, message="the permission dialog")
    return anki.addon.permission.dialogs[origin]


def test_allowing_a_page_grants_it_and_remembers_it(anki: AnkiSession, restore_config: None) -> None:
    from aqt.qt import QMessageBox

    replies: list[HttpReply] = []
    thread = _ask_in_background(anki, SITE, replies)
    box = _dialog(anki, SITE)
    assert box.isVisible() and not box.isModal() and SITE in box.text()
    # While the question is open, Anki and every other client carry on.
    assert anki.invoke("deckNames") == ["Default"]
    second: list[HttpReply] = []
    joiner = _ask_in_background(anki, SITE, second)  # a second request waits for the same answer
    wait_until(lambda: anki.addon.permission.waiting(SITE) == 2, message="the second request")
    assert list(anki.addon.permission.dialogs) == [SITE]  # still one question
    box.button(QMessageBox.StandardButton.Yes).click()
    wait_until(lambda: not thread.is_alive() and not joiner.is_alive(), message="the answers")
    granted = {"permission": "granted", "requireApikey": False, "version": 6}
    assert replies[0].json() == {"result": granted, "error": None}
    assert second[0].json() == {"result": granted, "error": None}
    assert replies[0].headers["access-control-allow-origin"] == SITE
    assert SITE in anki.addon.mw.addonManager.getConfig(anki.addon.package)["webCorsOriginList"]
    port = anki.port
    # The page may now use the API.
    assert anki.call(lambda: http_post(port, {"action": "version"}, headers={"Origin": SITE})).json() == 6


def test_refusing_with_do_not_ask_again_ignores_the_page(anki: AnkiSession, restore_config: None) -> None:
    from aqt.qt import QMessageBox

    origin = "https://nagging.example"
    replies: list[HttpReply] = []
    thread = _ask_in_background(anki, origin, replies)
    box = _dialog(anki, origin)
    box.checkBox().setChecked(True)
    box.button(QMessageBox.StandardButton.No).click()
    wait_until(lambda: not thread.is_alive(), message="the answer")
    assert replies[0].json() == {"result": {"permission": "denied"}, "error": None}
    assert origin in anki.addon.mw.addonManager.getConfig(anki.addon.package)["ignoreOriginList"]
    again: list[HttpReply] = []
    _ask_in_background(anki, origin, again).join(0)
    wait_until(lambda: again, message="the second answer")
    assert again[0].json() == {"result": {"permission": "denied"}, "error": None}
    assert origin not in anki.addon.permission.dialogs  # not asked twice


def test_allowed_origins_are_granted_without_a_question(anki: AnkiSession) -> None:
    reply = anki.request({"action": "requestPermission", "version": 6}, headers={"Origin": "http://localhost"})
    assert reply == {"result": {"permission": "granted", "requireApikey": False, "version": 6}, "error": None}
    assert anki.addon.permission.dialogs == {}
