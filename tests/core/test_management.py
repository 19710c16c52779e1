"""The management API client against a tiny local HTTP server: answers, refusals, nonsense."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.management import ManagementApi, ManagementError, vhost_path
from core.ports import free_port
from core.settings import ConnectionSettings


class Handler(BaseHTTPRequestHandler):
    """Answers by path; records what it was sent."""

    seen: list[tuple[str, str, str, bytes]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Handler.seen.append((self.command, self.path, self.headers["Authorization"], body))
        status, text = {
            "/api/queues/%2F/q": (200, json.dumps({"messages_ready": 3})),
            "/api/refuse": (401, '{"error":"not_authorised"}'),
            "/api/nonsense": (200, "<html>"),
            "/api/empty": (204, ""),
        }.get(self.path, (404, "{}"))
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[ManagementApi]:
    Handler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="test-http")
    thread.start()
    try:
        yield ManagementApi(f"http://127.0.0.1:{server.server_port}", "ann", "s3cret", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_queue_record_is_read_with_basic_auth(api):
    assert api.queue("/", "q") == {"messages_ready": 3}
    ((method, path, auth, _),) = Handler.seen
    assert (method, path) == ("GET", "/api/queues/%2F/q")
    assert base64.b64decode(auth.split()[1]) == b"ann:s3cret"


def test_put_sends_json_and_an_empty_answer_is_none(api):
    with pytest.raises(ManagementError) as error:  # 404 for an unknown path
        api.put("/api/policies/x", {"pattern": "^q$"})
    assert error.value.status == 404
    assert json.loads(Handler.seen[-1][3]) == {"pattern": "^q$"}
    assert api.request("DELETE", "/api/empty") is None


def test_a_refusal_carries_its_status_and_is_fatal(api):
    with pytest.raises(ManagementError, match="refused GET /api/refuse: 401") as error:
        api.get("/api/refuse")
    assert error.value.status == 401
    assert error.value.fatal


def test_nonsense_and_silence_are_errors_too(api):
    with pytest.raises(ManagementError, match="JSON"):
        api.get("/api/nonsense")
    with pytest.raises(ManagementError) as error:
        api.get(vhost_path("queues", "/", "not-a-dict"))  # 404 body {} is a dict, but refused
    assert error.value.status == 404
    nobody = ManagementApi(f"http://127.0.0.1:{free_port()}", "ann", "s3cret", timeout=2)
    with pytest.raises(ManagementError, match="cannot be reached") as error:
        nobody.get("/api/overview")
    assert error.value.status is None


def test_for_broker_uses_the_broker_s_host_credentials_and_tls_and_hides_the_password():
    settings = ConnectionSettings.from_urls(["amqps://bob:pw9@rabbit.example:5671/prod"])
    api = ManagementApi.for_broker(settings.primary, 15671)
    assert api.base_url == "https://rabbit.example:15671"
    assert (api.username, api.password) == ("bob", "pw9")
    assert "pw9" not in repr(api)
    assert vhost_path("queues", "prod/eu", "a b") == "/api/queues/prod%2Feu/a%20b"
