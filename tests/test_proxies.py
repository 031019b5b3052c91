"""Clients behind a reverse proxy: X-Forwarded-For read from trusted proxies only (ASSISTANT_TRUSTED_PROXIES)."""
from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from assistant.proxies import TrustedProxies

QUESTION = {"question": "Comment redémarrer après un rançongiciel ?"}


@pytest.mark.parametrize("peer, header, client", [
    # No proxy trusted by default: the header is never read.
    ("10.0.0.2", ["203.0.113.7"], "10.0.0.2"),
])
def test_nothing_is_trusted_by_default(peer, header, client):
    assert TrustedProxies().client(peer, header) == client and not TrustedProxies()


@pytest.mark.parametrize("peer, header, client", [
    ("127.0.0.1", ["203.0.113.7"], "203.0.113.7"),
    # What the client wrote itself stays left of the address nginx appended: never reached.
    ("127.0.0.1", ["1.1.1.1, 203.0.113.7"], "203.0.113.7"),
    # A chain of trusted proxies (a load balancer in the range, then nginx): skipped from the right.
    ("127.0.0.1", ["203.0.113.7, 10.0.0.9"], "203.0.113.7"),
    ("127.0.0.1", ["203.0.113.7", "10.0.0.9"], "203.0.113.7"),  # the header repeated reads as one list
    # Only trusted hops: the leftmost is the client.
    ("127.0.0.1", ["10.0.0.3, 10.0.0.9"], "10.0.0.3"),
    # An entry that is not an address stops at the last proxy known.
    ("127.0.0.1", ["203.0.113.7, n'importe quoi"], "127.0.0.1"),
    ("127.0.0.1", [""], "127.0.0.1"),
    # Ports and IPv6 as proxies write them; an IPv4-mapped peer is its IPv4 address.
    ("::ffff:127.0.0.1", ["203.0.113.7:4711"], "203.0.113.7"),
    ("127.0.0.1", ["[2001:db8::7]:443"], "2001:db8::7"),
    # A peer outside the list: its header is ignored, whatever it says.
    ("198.51.100.9", ["203.0.113.7"], "198.51.100.9"),
    ("10.1.0.1", ["203.0.113.7"], "10.1.0.1"),
])
def test_the_client_is_the_first_address_from_the_right_that_is_not_a_trusted_proxy(peer, header, client):
    proxies = TrustedProxies.parse("127.0.0.1, 10.0.0.0/24")
    assert proxies.client(peer, header) == client


def test_the_setting_is_read_and_a_mistyped_entry_is_refused(monkeypatch):
    from assistant.config import load_settings

    monkeypatch.setenv("ASSISTANT_TRUSTED_PROXIES", "127.0.0.1,10.0.0.0/24, ::1")
    assert load_settings().trusted_proxies == ("127.0.0.1", "10.0.0.0/24", "::1")
    monkeypatch.setenv("ASSISTANT_TRUSTED_PROXIES", "127.0.0.1,proxy.interne")
    with pytest.raises(ValueError, match="'proxy.interne' n'est ni une adresse IP ni une plage CIDR.*10.0.0.0/24"):
        load_settings()
    monkeypatch.delenv("ASSISTANT_TRUSTED_PROXIES")
    assert load_settings().trusted_proxies == ()


@pytest.fixture
def app_with(tiny_corpus, settings, embedder, tmp_path):
    """An API app over the tiny corpus, with a limit of 2 questions a minute and the given trusted proxies."""
    from assistant.api import Runtime, create_app, set_runtime
    from assistant.feedback import FeedbackStore
    from assistant.index import build_index
    from assistant.service import Assistant

    build_index([tiny_corpus], settings, embedder, show_progress=False)

    def make(proxies):
        limited = replace(settings, rate_limit=2, trusted_proxies=proxies)
        runtime = Runtime.create(Assistant.load(limited, embedder), FeedbackStore(tmp_path / f"q{len(proxies)}.sqlite3"))
        return create_app(runtime, with_chat=False), runtime

    yield make
    set_runtime(None)


def _asks(app, peer, forwarded_for=None, times=1):
    from fastapi.testclient import TestClient

    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    with TestClient(app, raise_server_exceptions=False, client=(peer, 4000)) as client:
        return [client.post("/api/ask", json=QUESTION, headers=headers).status_code for _ in range(times)]


def test_clients_behind_a_trusted_proxy_are_limited_each_on_its_own_address(app_with):
    app, runtime = app_with(("127.0.0.1",))
    assert _asks(app, "127.0.0.1", "203.0.113.7", times=3) == [200, 200, 429]
    # Another user through the same proxy has a budget of its own.
    assert _asks(app, "127.0.0.1", "198.51.100.20", times=2) == [200, 200]
    # And a user who claims to be the second one in its own header is still the first (nginx appends).
    assert _asks(app, "127.0.0.1", "198.51.100.20, 203.0.113.7") == [429]
    assert [q["client"] for q in runtime.store.questions()] == ["203.0.113.7"] * 2 + ["198.51.100.20"] * 2


def test_an_untrusted_x_forwarded_for_is_ignored(app_with):
    app, runtime = app_with(("127.0.0.1",))
    # A client that connects directly cannot buy new budgets by writing the header.
    statuses = [_asks(app, "198.51.100.9", f"203.0.113.{n}")[0] for n in range(3)]
    assert statuses == [200, 200, 429]
    assert {q["client"] for q in runtime.store.questions()} == {"198.51.100.9"}
    # With no proxy trusted (the default), a proxy's header is not read either: its users share its budget.
    app, runtime = app_with(())
    assert [_asks(app, "127.0.0.1", f"203.0.113.{n}")[0] for n in range(3)] == [200, 200, 429]


def test_the_chat_socket_sees_the_client_too():
    """The middleware rewrites websocket scopes as well: the chat reads the client from the socket's scope."""
    from assistant.api import _RealClient

    seen = {}

    async def inner(scope, receive, send):
        seen.update(scope)

    middleware = _RealClient(inner, TrustedProxies.parse("10.0.0.2"))
    scope = {"type": "websocket", "path": "/ws/socket.io/", "client": ("10.0.0.2", 5000),
             "headers": [(b"x-forwarded-for", b"203.0.113.7")]}
    asyncio.run(middleware(scope, None, None))
    assert seen["client"] == ("203.0.113.7", 0) and seen["proxy"] == ("10.0.0.2", 5000)
    seen.clear()
    asyncio.run(middleware({**scope, "client": ("198.51.100.9", 5000)}, None, None))
    assert seen["client"] == ("198.51.100.9", 5000) and "proxy" not in seen


def test_the_chat_limits_and_logs_the_address_its_socket_connected_from(tiny_corpus, settings, embedder, tmp_path):
    import chainlit as cl
    from chainlit.context import ChainlitContext, context_var
    from chainlit.session import HTTPSession

    from assistant.api import RateLimiter, Runtime, set_runtime
    from assistant.feedback import FeedbackStore
    from assistant.index import build_index
    from assistant.service import Assistant
    from test_chat_handlers import _assistant_outputs, _load_app, _Recorder, run_async

    build_index([tiny_corpus], settings, embedder, show_progress=False)
    runtime = Runtime.create(Assistant.load(settings, embedder), FeedbackStore(tmp_path / "q.sqlite3"))
    runtime.limiter = RateLimiter(per_minute=1)
    set_runtime(runtime)
    app = _load_app()

    async def ask_from(address):
        session = HTTPSession(id=f"s-{address}", thread_id=f"t-{address}", client_type="webapp")
        # What Chainlit keeps of the socket's connection: python-engineio's environ, REMOTE_ADDR always 127.0.0.1.
        session.environ = {"REMOTE_ADDR": "127.0.0.1", "asgi.scope": {"type": "websocket", "client": (address, 0)}}
        recorder = _Recorder(session)
        context_var.set(ChainlitContext(session, emitter=recorder))
        await app.on_message(cl.Message(content=QUESTION["question"]))
        return recorder

    try:
        outputs = [step["output"] for address in ("203.0.113.7", "198.51.100.20", "203.0.113.7")
                   for step in _assistant_outputs(run_async(ask_from(address)))]
    finally:
        set_runtime(None)
    assert "**Sources**" in outputs[0] and "**Sources**" in outputs[1], "two users, two budgets"
    assert "réessayez dans" in outputs[2]
    assert [q["client"] for q in runtime.store.questions()] == ["203.0.113.7", "198.51.100.20"]
