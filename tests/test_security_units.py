"""The wrong-key throttle and the log redaction, without a server (a fake clock, plain values)."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, strategies as st

from ankiconnect_live.redact import REDACTED, RedactingFilter, redact, redact_text
from ankiconnect_live.transport import throttle
from ankiconnect_live.transport.throttle import KeyThrottle, TooManyFailures, client_address


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_first_wrong_keys_are_free_then_the_delay_doubles_up_to_a_cap() -> None:
    clock = Clock()
    keys = KeyThrottle(clock)
    waits = []
    for _ in range(throttle.FREE_FAILURES + 8):
        waits.append(keys.wait_for("10.0.0.1", key_ok=False))
        clock.now += 100  # each guess after the previous one's turn: only its own delay counts
    assert waits[: throttle.FREE_FAILURES] == [0.0] * throttle.FREE_FAILURES
    assert waits[throttle.FREE_FAILURES :] == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0])


def test_parallel_guesses_queue_and_a_right_key_waits_for_the_queue_without_extending_it() -> None:
    clock = Clock()
    keys = KeyThrottle(clock)
    for _ in range(throttle.FREE_FAILURES):
        keys.wait_for("a", key_ok=False)
    parallel = [keys.wait_for("a", key_ok=False) for _ in range(3)]
    assert parallel == pytest.approx([0.05, 0.15, 0.35])
    assert keys.wait_for("a", key_ok=True) == pytest.approx(0.35)  # as late as a wrong one's turn: no timing hint
    assert keys.wait_for("a", key_ok=True) == pytest.approx(0.35)  # and it did not push the queue
    assert keys.wait_for("b", key_ok=False) == 0.0  # other addresses are not affected
    clock.now += 0.35
    assert keys.wait_for("a", key_ok=True) == 0.0  # once the guesses stop, the right key is answered at once


def test_a_queue_longer_than_the_backlog_is_refused_for_every_key() -> None:
    clock = Clock()
    keys = KeyThrottle(clock)
    with pytest.raises(TooManyFailures):
        for _ in range(100):
            keys.wait_for("a", key_ok=False)
    with pytest.raises(TooManyFailures, match="try again in"):
        keys.wait_for("a", key_ok=True)  # refused unchecked, or a fast answer would reveal a right guess


def test_an_address_is_forgotten_after_a_quiet_while_and_the_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    keys = KeyThrottle(clock)
    for _ in range(10):
        keys.wait_for("a", key_ok=False)
    clock.now += throttle.FORGET_AFTER + 100
    assert keys.wait_for("a", key_ok=True) == 0.0 and keys.failures("a") == 0
    monkeypatch.setattr(throttle, "MAX_ADDRESSES", 3)
    for n in range(10):
        clock.now += 1
        keys.wait_for(f"10.0.0.{n}", key_ok=False)
    assert [keys.failures(f"10.0.0.{n}") for n in range(10)] == [0] * 7 + [1] * 3


def test_in_process_callers_and_right_keys_cost_nothing() -> None:
    keys = KeyThrottle()
    assert keys.wait_for(None, key_ok=False) == 0.0
    assert keys.wait_for("a", key_ok=True) == 0.0 and keys.failures("a") == 0


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        (("127.0.0.1", 5000), "127.0.0.1"),
        (("::1", 5000, 0, 0), "::/64"),
        (("2001:db8::1", 1, 0, 0), "2001:db8::/64"),
        (("2001:db8::ffff:1", 1, 0, 0), "2001:db8::/64"),  # one host rotating its addresses is one client
        (("::ffff:10.1.2.3", 1, 0, 0), "10.1.2.3"),
        (("fe80::1%eth0", 1, 0, 2), "fe80::/64"),
        (None, None),
        ("/run/socket", None),
    ],
)
def test_client_address(peer: object, address: str | None) -> None:
    assert client_address(peer) == address


# redaction


def test_redact_replaces_keys_and_payloads_anywhere() -> None:
    request = {
        "action": "multi",
        "key": "k",
        "params": {
            "actions": [
                {"action": "storeMediaFile", "key": "k", "params": {"filename": "a", "data": "QUJD"}},
                {"action": "sync", "params": {"apiKey": "x", "password": "p", "syncKey": "s", "fields": {"Key": "v"}}},
            ]
        },
    }
    assert redact(request) == {
        "action": "multi",
        "key": REDACTED,
        "params": {
            "actions": [
                {
                    "action": "storeMediaFile",
                    "key": REDACTED,
                    "params": {"filename": "a", "data": "<4 characters of data>"},
                },
                {
                    "action": "sync",
                    "params": {"apiKey": REDACTED, "password": REDACTED, "syncKey": REDACTED, "fields": {"Key": "v"}},
                },
            ]
        },
    }
    assert redact("QUJD" * 100) == "<400 characters of data>"  # retrieveMediaFile's bare reply
    assert redact("a sentence, not base64 " * 20).startswith("a sentence")
    assert redact({"key": None}) == {"key": None}


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_redact_never_fails_and_keeps_the_shape(value: object) -> None:
    cleaned = redact(value)
    assert type(cleaned) is type(value) or isinstance(value, str)


@given(st.text(alphabet=st.characters(blacklist_characters="&'\" \t\r\n\x0b\x0c"), min_size=3))
def test_redact_text_hides_url_and_json_keys(secret: str) -> None:
    # Whole lines compared: a secret such as "<re" may well occur in the redacted line itself.
    assert redact_text(f"< GET /?events=x&key={secret} HTTP/1.1") == f"< GET /?events=x&key={REDACTED} HTTP/1.1"
    assert (
        redact_text(f'TEXT \'{{"action": "version", "key": "{secret}"}}\' [40 bytes]')
        == f'TEXT \'{{"action": "version", "key": "{REDACTED}"}}\' [40 bytes]'
    )
    # a frame cut short inside the key: the rest of the line goes with it
    assert (
        redact_text(f'TEXT \'{{"action": "version", "key": "{secret[:2]}...\' [9000 bytes]')
        == f'TEXT \'{{"action": "version", "key": "{REDACTED}'
    )


def test_the_redacting_filter_rewrites_records() -> None:
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "< GET %s HTTP/1.1", ("/?key=hush",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == f"< GET /?key={REDACTED} HTTP/1.1"
