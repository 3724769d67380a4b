"""Property-based fuzzing of the HTTP head and body handling (in-process: real protocol, fake socket).

Whatever bytes arrive, in whatever pieces: no exception, no 5xx, output that parses as HTTP, and a request
reaches the dispatcher only when it was complete and within the limits. ``make fuzz`` runs it longer.
"""

from __future__ import annotations

import json

import fuzz_profiles
import pytest
from fuzz_harness import OPEN_SETTINGS, SETTINGS, run_http
from hypothesis import given, settings, strategies as st

METHODS = st.sampled_from(["POST", "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "G\x00T", "", "POST POST"])
TARGETS = st.sampled_from(["/", "/events", "/events?key=k&since=x", "/openapi.json", "/?key=k", "*", "", "/%zz", "//"])
HEADER_NAMES = st.sampled_from(
    ["Host", "Content-Length", "Transfer-Encoding", "Origin", "Expect", "Connection", "Upgrade", "X", "Last-Event-ID"]
)
HEADER_VALUES = st.one_of(
    st.sampled_from(
        ["127.0.0.1", "evil.example", "chunked", "100-continue", "close", "websocket", "-1", "10", "99999999999"]
    ),
    st.sampled_from(["http://localhost", "http://evil.example", "keep-alive", "Upgrade", "gzip, chunked"]),
    st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogateescape").decode("latin-1")),
)
JSON_BODIES = st.one_of(
    st.just({"action": "version", "version": 6, "key": "k"}),
    st.fixed_dictionaries(
        {"action": st.text(max_size=10)},
        optional={
            "version": st.integers() | st.text(max_size=3),
            "params": st.dictionaries(st.text(max_size=5), st.integers()),
            "key": st.just("k"),
        },
    ),
).map(lambda v: json.dumps(v).encode())
BODIES = st.one_of(JSON_BODIES, st.binary(max_size=200), st.just(b"x" * 5000))


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    """A request as a client (or an attacker) might write it: mostly plausible, often subtly wrong."""
    method = draw(METHODS)
    target = draw(TARGETS)
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/1.1 ", ""]))
    body = draw(BODIES)
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=5))
    framing = draw(st.sampled_from(["length", "chunked", "none", "wrong-length"]))
    if framing == "length":
        headers.append(("Content-Length", str(len(body))))
    elif framing == "wrong-length":
        headers.append(("Content-Length", str(len(body) + draw(st.integers(-5, 5)))))
    elif framing == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        size = draw(st.integers(1, 64))
        pieces = [body[i : i + size] for i in range(0, len(body), size)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    separator = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    head = separator.join([f"{method} {target} {version}".rstrip(), *(f"{n}: {v}" for n, v in headers)])
    return head.encode("latin-1") + (separator * 2).encode() + body


@st.composite
def pieces(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at random places: the network may deliver a request byte by byte or many at once."""
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=6)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


STREAMS = st.lists(st.one_of(requests(), st.binary(max_size=300)), min_size=1, max_size=3).map(b"".join)


@settings(max_examples=fuzz_profiles.examples(400))
@given(st.data())
def test_any_bytes_in_any_pieces_get_valid_http_and_never_a_5xx(data: st.DataObject) -> None:
    stream = data.draw(STREAMS)
    run_http(data.draw(pieces(stream)))


@settings(max_examples=fuzz_profiles.examples(150))
@given(st.binary(max_size=2000))
def test_raw_bytes(data: bytes) -> None:
    run_http([data])


@settings(max_examples=fuzz_profiles.examples(100))
@given(st.data())
def test_a_valid_request_is_answered_the_same_in_any_pieces(data: st.DataObject) -> None:
    body = json.dumps({"action": data.draw(st.text(min_size=1, max_size=8)), "version": 6, "key": "k"}).encode()
    request = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    whole = run_http([request])
    split = run_http(data.draw(pieces(request * 2)))
    assert whole.statuses == [200] and split.statuses == [200, 200]
    assert len(whole.handled) == 1 and len(split.handled) == 2


@settings(max_examples=fuzz_profiles.examples(60))
@given(st.integers(SETTINGS.webMaxBodyBytes + 1, SETTINGS.webMaxBodyBytes * 4), st.booleans())
def test_a_body_over_the_limit_never_reaches_the_dispatcher(size: int, chunked: bool) -> None:
    body = json.dumps({"action": "version", "pad": "x" * size}).encode()
    if chunked:
        framed = b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        framed = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    run = run_http([b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + framed])
    assert run.statuses == [413] and run.handled == []


@settings(max_examples=fuzz_profiles.examples(60))
@given(st.integers(SETTINGS.webMaxHeadBytes + 1, SETTINGS.webMaxHeadBytes * 3), st.integers(1, 50))
def test_a_head_over_the_limit_gets_431_however_it_arrives(size: int, piece: int) -> None:
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * size + b"\r\n\r\n"
    run = run_http([head[i : i + piece * 100] for i in range(0, len(head), piece * 100)])
    assert run.statuses == [431] and run.handled == []


def test_an_integer_beyond_pythons_limit_is_a_clean_error_not_a_500() -> None:
    # Found by fuzzing: json.loads raises a bare ValueError past 4300 digits, which became a 500.
    body = b'{"action": "version", "version": ' + b"1" * 5000 + b"}"
    head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(body)
    run = run_http([head + body], OPEN_SETTINGS)  # (the default body limit: this one is over 4 KiB)
    assert run.statuses == [200] and run.handled == []
    assert b"4300 digits" in run.out


def test_a_head_request_cut_short_gets_its_error_as_a_head_only() -> None:
    # Found by fuzzing: the 400 for a HEAD whose body never came had a body, which h11 refused to send, so
    # the client got no reply at all and the server logged an error.
    run = run_http([b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 15\r\n\r\n{}"])
    assert run.statuses == [400] and run.out.endswith(b"\r\n\r\n"), run.out


@pytest.mark.parametrize("method", ["OPTIONS", "POST"])
def test_a_repeated_empty_header_leaves_nothing_unsendable(method: str) -> None:
    # Found by fuzzing: two Origin fields, one empty, joined into "x, ", which was echoed back in
    # Access-Control-Allow-Origin: h11 refused the header, so the client got no reply.
    body = b'{"action": "requestPermission", "key": "k"}'
    head = b"%s / HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nOrigin: \r\n" % method.encode()
    run = run_http([head + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)])
    assert run.statuses == [200], run.out
    assert b"Access-Control-Allow-Origin: http://evil.example\r\n" in run.out
