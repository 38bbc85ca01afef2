"""httpx in-process, sync and async, beside requests: one ``intercept()`` covers both, at
the default transports; strict mode; time-outs and faults give httpx's own exceptions, the same
as against a live server."""
from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
import requests

from emulator import intercept
from emulator.testing.intercept import AsyncEmulatorTransport, EmulatorTransport, UnexpectedHost

OCTOPUSH = "https://api.octopush.com/v1/public/contact/create"
AUTH = {"api-login": "demo@example.com", "api-key": "octopush-demo-key"}


def body(phone: str) -> dict:
    return {"contacts": [{"phone_number": phone, "first_name": "Ann"}]}


@pytest.fixture(scope="module")
def app():
    from emulator import create_app

    app = create_app({"fixture": "empty"})
    yield app
    app.extensions["emulator"].close()


@pytest.fixture
def emulator(app):
    with intercept(app) as handle:
        handle.reset(session=True)
        yield handle


def phones(handle) -> set[str]:
    return {c["phone_number"] for c in handle.contacts("octopush")}


def test_sync_client_module_call_and_a_client_made_before(app, monkeypatch):
    early = httpx.Client()
    opened = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", lambda s, *a: (opened.append(a), real_connect(s, *a))[1])
    with intercept(app) as handle:
        handle.reset(session=True)
        with httpx.Client(headers=AUTH) as client:
            assert client.post(OCTOPUSH, json=body("+33611111111")).status_code == 201
        assert httpx.post(OCTOPUSH, json=body("+33622222222"), headers=AUTH).status_code == 201
        reply = early.post(OCTOPUSH, json=body("+33633333333"), headers=AUTH)
        assert reply.status_code == 201 and reply.json()["contacts_created"] == 1
        assert reply.reason_phrase == "CREATED" and reply.http_version == "HTTP/1.1"
        assert phones(handle) == {"+33611111111", "+33622222222", "+33633333333"}
    assert opened == []
    entry = handle.requests("octopush")[0]
    assert entry["path"] == "/v1/public/contact/create" and entry["headers"]["Api-Key"] == "***"
    early.close()


def test_async_client(emulator):
    async def sign_up():
        async with httpx.AsyncClient(headers=AUTH, timeout=5) as client:
            replies = await asyncio.gather(*(client.post(OCTOPUSH, json=body(f"+3364444444{i}")) for i in range(3)))
            return [r.status_code for r in replies]

    assert asyncio.run(sign_up()) == [201, 201, 201]
    assert phones(emulator) == {f"+3364444444{i}" for i in range(3)}


def test_one_intercept_covers_requests_and_httpx(emulator):
    assert requests.post(OCTOPUSH, json=body("+33655555555"), headers=AUTH, timeout=5).status_code == 201
    assert httpx.post(OCTOPUSH, json=body("+33666666666"), headers=AUTH).status_code == 201
    assert phones(emulator) == {"+33655555555", "+33666666666"}


def test_query_strings_and_encoded_paths_reach_the_app(emulator):
    reply = httpx.get("https://api.dengage.com/rest/contacts/K%2F1", params={"contactFields": "name"},
                      headers={"Authorization": "Bearer nope"})
    assert reply.status_code == 401  # routed to D·engage, refused for the token
    entry = emulator.requests("dengage")[-1]
    assert entry["path"] == "/rest/contacts/K/1" and entry["query"] == {"contactFields": "name"}


def test_other_hosts_pass_through_and_strict_refuses_them(app, httpserver):
    httpserver.expect_request("/elsewhere").respond_with_json({"real": True})
    with intercept(app):
        assert httpx.get(httpserver.url_for("/elsewhere")).json() == {"real": True}
    with intercept(app, strict=True):
        with pytest.raises(UnexpectedHost, match="'example.org'") as refused:
            httpx.get("https://example.org/x")
        assert isinstance(refused.value, httpx.ConnectError)  # code handling network errors handles it
        with pytest.raises(UnexpectedHost, match="'example.org'") as refused:
            requests.get("https://example.org/x", timeout=5)
        assert isinstance(refused.value, requests.ConnectionError)

        async def refused_async():
            async with httpx.AsyncClient() as client:
                await client.get("https://example.org/x")

        with pytest.raises(UnexpectedHost):
            asyncio.run(refused_async())
    with intercept(app, strict=True, passthrough=["127.0.0.1", "localhost"]):
        assert httpx.get(httpserver.url_for("/elsewhere")).json() == {"real": True}
        assert requests.get(httpserver.url_for("/elsewhere"), timeout=5).json() == {"real": True}


def test_interception_patches_only_the_transports_and_puts_them_back(app):
    import requests.adapters
    import requests.models
    import requests.sessions
    import requests.utils

    helpers = (requests.sessions.get_netrc_auth, requests.sessions.Session.merge_environment_settings,
               requests.sessions.resolve_proxies, requests.sessions.to_key_val_list, requests.models.to_key_val_list,
               requests.utils.to_key_val_list)
    picks = (httpx.Client._transport_for_url, httpx.AsyncClient._transport_for_url)
    sends = (httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request)
    send = requests.adapters.HTTPAdapter.send
    with intercept(app):
        assert (requests.sessions.get_netrc_auth, requests.sessions.Session.merge_environment_settings,
                requests.sessions.resolve_proxies, requests.sessions.to_key_val_list,
                requests.models.to_key_val_list, requests.utils.to_key_val_list) == helpers
        assert requests.adapters.HTTPAdapter.send is not send
        assert (httpx.Client._transport_for_url, httpx.AsyncClient._transport_for_url) == picks  # private: left alone
        assert httpx.HTTPTransport.handle_request is not sends[0]
        assert httpx.AsyncHTTPTransport.handle_async_request is not sends[1]
    assert requests.adapters.HTTPAdapter.send is send
    assert (httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request) == sends


def test_a_client_with_a_transport_of_its_own_is_not_touched(app):
    answered = []

    def answer(request):
        answered.append(str(request.url))
        return httpx.Response(299, json={"mocked": True})

    with intercept(app, strict=True) as handle:
        handle.reset(session=True)
        with httpx.Client(transport=httpx.MockTransport(answer), headers=AUTH) as client:
            assert client.post(OCTOPUSH, json=body("+33699999999")).status_code == 299
            assert client.get("https://example.org/x").json() == {"mocked": True}  # strict refuses the network only

        async def mounted():
            mounts = {"all://api.octopush.com": httpx.MockTransport(answer)}
            async with httpx.AsyncClient(mounts=mounts, headers=AUTH) as client:
                return (await client.post(OCTOPUSH, json=body("+33699999998"))).status_code

        assert asyncio.run(mounted()) == 299
        assert answered == [OCTOPUSH, "https://example.org/x", OCTOPUSH]
        assert handle.requests("octopush") == [] and phones(handle) == set()


def test_mounting_the_transport_without_patching(app):
    handle = intercept(app)
    with httpx.Client(mounts=handle.httpx_mounts(), headers=AUTH) as client:
        assert client.post(OCTOPUSH, json=body("+33677777777")).status_code == 201
    assert isinstance(handle.httpx_mounts()["all://api.octopush.com"], EmulatorTransport)

    async def mounted():
        transport = AsyncEmulatorTransport(app)
        async with httpx.AsyncClient(transport=transport, headers=AUTH) as client:
            return (await client.post(OCTOPUSH, json=body("+33688888888"))).status_code

    assert asyncio.run(mounted()) == 201


# -- time-outs and faults: the same httpx exceptions in-process and against a live server
@pytest.fixture(params=["in-process", "live"])
def target(request, app, live):
    """(handle, create URL)."""
    if request.param == "live":
        from emulator.testing.handle import EmulatorHandle

        server = live(app)
        handle = EmulatorHandle(app, server.url)
        handle.reset(session=True)
        yield handle, f"{server.url}/octopush/v1/public/contact/create"
    else:
        with intercept(app) as handle:
            handle.reset(session=True)
            yield handle, OCTOPUSH


def test_a_delay_longer_than_the_timeout_raises_read_timeout(target):
    handle, url = target
    handle.faults.add(vendor="octopush", path="/v1/public/contact/create", delay_ms=1500, times=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, json=body("+33611111112"), headers=AUTH, timeout=0.3)

    async def slow():
        handle.faults.add(vendor="octopush", path="/v1/public/contact/create", delay_ms=1500, times=1)
        async with httpx.AsyncClient(timeout=0.3) as client:
            await client.post(url, json=body("+33611111113"), headers=AUTH)

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(slow())


def test_a_shorter_delay_is_waited_for(target):
    import time

    handle, url = target
    handle.faults.add(vendor="octopush", path="/v1/public/contact/create", delay_ms=200, times=1)
    started = time.perf_counter()
    assert httpx.post(url, json=body("+33611111114"), headers=AUTH, timeout=5).status_code == 201
    assert time.perf_counter() - started >= 0.2


def test_a_dropped_connection_raises_remote_protocol_error(target):
    handle, url = target
    handle.faults.add(vendor="octopush", path="/v1/public/contact/create", drop=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(url, json=body("+33611111115"), headers=AUTH, timeout=5)
    assert httpx.post(url, json=body("+33611111115"), headers=AUTH, timeout=5).status_code == 201


def test_a_status_fault_answers_in_the_vendor_shape(target):
    handle, url = target
    handle.faults.add(vendor="octopush", path="/v1/public/contact/create", status=503, times=1)
    reply = httpx.post(url, json=body("+33611111116"), headers=AUTH, timeout=5)
    assert reply.status_code == 503 and reply.json()["message"]
