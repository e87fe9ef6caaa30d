"""A local HTTP server that speaks the GOV.UK Notify endpoints we use
(POST /v2/notifications/email, GET /v2/notifications?reference=...), checking the JWT the
way Notify does: issuer is the service id, HS256 with the key's secret, issued within
the last 30 seconds. It can also take a notification and then drop the connection
without answering (a reply lost on the way back), and fail lookups."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"test_key-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"


class NotifyServer:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.refused_auth = 0
        # address -> (status, message) to answer instead of 201
        self.errors: dict[str, tuple[int, str]] = {}
        # addresses whose notification is taken, then the connection closed unanswered
        self.lose_reply: set[str] = set()
        self.failing_lookups = 0  # how many of the next lookups answer 500
        self.lookups: list[str] = []
        self.ids: dict[str, str] = {}  # reference -> notification id
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                auth = self.headers.get("Authorization", "")
                try:
                    assert auth.startswith("Bearer ")
                    claims = jwt.decode(auth[7:], SECRET, algorithms=["HS256"])
                    assert claims["iss"] == SERVICE_ID
                    assert abs(time.time() - int(claims["iat"])) < 30
                except Exception:
                    server.refused_auth += 1
                    self._reply(
                        403,
                        {
                            "status_code": 403,
                            "errors": [
                                {"error": "AuthError", "message": "Invalid token: signature"}
                            ],
                        },
                    )
                    return False
                return True

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path != "/v2/notifications":
                    self._reply(404, {"status_code": 404, "errors": [{"error": "NotFound"}]})
                    return
                reference = query.get("reference", [""])[0]
                server.lookups.append(reference)
                if server.failing_lookups:
                    server.failing_lookups -= 1
                    self._reply(500, {"status_code": 500, "errors": [{"error": "Exception"}]})
                    return
                found = [
                    {
                        "id": server.ids[p["reference"]],
                        "reference": p["reference"],
                        "type": "email",
                        "status": "sending",
                    }
                    for p in server.received
                    if p.get("reference") == reference
                ]
                self._reply(200, {"notifications": found, "links": {"current": self.path}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                if not self._authorised():
                    return
                if self.path != "/v2/notifications/email":
                    self._reply(404, {"status_code": 404, "errors": [{"error": "NotFound"}]})
                    return
                address = payload.get("email_address", "")
                if address in server.errors:
                    status, message = server.errors[address]
                    self._reply(
                        status,
                        {
                            "status_code": status,
                            "errors": [
                                {
                                    "error": "ValidationError" if status == 400 else "Error",
                                    "message": message,
                                }
                            ],
                        },
                    )
                    return
                if payload.get("template_id") != TEMPLATE_ID:
                    self._reply(
                        400,
                        {
                            "status_code": 400,
                            "errors": [
                                {"error": "BadRequestError", "message": "Template not found"}
                            ],
                        },
                    )
                    return
                server.received.append(payload)
                notification_id = str(uuid.uuid4())
                if payload.get("reference"):
                    server.ids[payload["reference"]] = notification_id
                if address in server.lose_reply:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._reply(
                    201,
                    {
                        "id": notification_id,
                        "reference": payload.get("reference"),
                        "content": {
                            "subject": payload["personalisation"]["subject"],
                            "body": payload["personalisation"]["body"],
                            "from_email": "localoffer@notifications.service.gov.uk",
                        },
                        "uri": "",
                        "template": {"id": TEMPLATE_ID, "version": 1, "uri": ""},
                    },
                )

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> NotifyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
