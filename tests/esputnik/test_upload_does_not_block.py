"""An upload's download happens outside the store lock: other requests are served meanwhile."""
from __future__ import annotations

import threading

import requests
from werkzeug.wrappers import Response

from .conftest import AUTH, FIXTURE


def test_other_requests_are_served_while_an_upload_waits_for_its_file(make_app, live, httpserver):
    release, fetching = threading.Event(), threading.Event()

    def slow_csv(request):
        fetching.set()
        release.wait(10)
        return Response("email,firstName\nslow@example.com,Slow\n", content_type="text/csv")

    httpserver.expect_request("/contacts.csv").respond_with_handler(slow_csv)
    server = live(make_app(fixture=FIXTURE))
    api = f"{server.url}/esputnik/api/v1"
    session_id = requests.post(f"{api}/contacts/upload", json={"link": httpserver.url_for("/contacts.csv")},
                               auth=AUTH, timeout=5).json()["asyncSessionId"]
    status = {}
    poller = threading.Thread(target=lambda: status.update(
        requests.get(f"{api}/importstatus/{session_id}", auth=AUTH, timeout=20).json()))
    poller.start()  # this request runs the due upload job, which waits for the file
    assert fetching.wait(10)
    try:
        quick = requests.post(f"{api}/contact", auth=AUTH, timeout=5,
                              json={"firstName": "Quick", "channels": [{"type": "email", "value": "quick@example.com"}]})
        assert quick.status_code == 200  # answered while the upload still waits for its file
        assert not release.is_set()
    finally:
        release.set()
        poller.join(20)
    assert status["status"] == "FINISHED"
    emails = [ch["value"] for c in requests.get(f"{server.url}/_emulator/state?vendor=esputnik&account=demo").json()[
        "vendors"]["esputnik"]["accounts"]["demo"]["contacts"] for ch in c["channels"] if ch["type"] == "email"]
    assert {"quick@example.com", "slow@example.com"} <= set(emails)
