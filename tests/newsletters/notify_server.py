"""A local HTTP server that speaks the GOV.UK Notify endpoint we use
(POST /v2/notifications/email), checking the JWT the way Notify does: issuer is the
service id, HS256 with the key's secret, issued within the last 30 seconds."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
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
                self._reply(
                    201,
                    {
                        "id": str(uuid.uuid4()),
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
