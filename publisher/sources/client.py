"""A polite HTTP client for directory APIs: timeouts and an overall deadline per
request, retries with backoff, Retry-After, a minimum gap between requests, and
failures sorted into retryable and permanent, in plain words.

Requests go through ``publisher.outgoing``: private addresses are refused (unless
allowed), and so are credentials in the URL. ``heartbeat`` is called before each try and
during each wait, so that the caller can renew its lease while the crawl progresses.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from publisher import __version__, outgoing
from publisher.outgoing.urls import mask_credentials

USER_AGENT = f"LocalOfferPublisher/{__version__} (+https://github.com/local-offer-publisher)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchError(Exception):
    """A request that failed for good (after retries, or at once for a permanent error)."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@dataclass
class ClientPolicy:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 4
    backoff: float = 1.0
    max_retry_after: float = 120.0
    min_interval: float = 0.0
    # The whole of one request (connect, headers, body): a server that drips bytes
    # never trips the read timeout.
    deadline: float = 40.0


# Failures of one try that are worth another: the server could not be reached, was slow,
# or closed the connection before the whole answer had arrived.
RETRY_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def _no_heartbeat() -> None:
    return None


@dataclass
class HttpClient:
    policy: ClientPolicy = field(default_factory=ClientPolicy)
    session: requests.Session = field(default_factory=outgoing.session)
    sleep: Callable[[float], None] = time.sleep
    heartbeat: Callable[[], None] = _no_heartbeat
    requests_made: int = 0
    _last_request: float = 0.0

    _proxies: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        # requests reads the proxy and CA settings from the environment on every request;
        # read them once per host instead (the same settings: HTTPS_PROXY, NO_PROXY,
        # REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE).
        self.session.trust_env = False
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.session.verify = bundle

    def _proxies_for(self, url: str) -> dict[str, str]:
        host = urlsplit(url).netloc
        if host not in self._proxies:
            self._proxies[host] = requests.utils.get_environ_proxies(url)
        return self._proxies[host]

    def close(self) -> None:
        self.session.close()

    def _pace(self) -> None:
        if self.policy.min_interval <= 0:
            return
        wait = self._last_request + self.policy.min_interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)

    def _wait(self, seconds: float) -> None:
        """Sleep, with a heartbeat at least every 10 s (a Retry-After can be minutes)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.sleep(min(left, 10.0))
            self.heartbeat()

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            if retry_after is not None:
                return min(retry_after, self.policy.max_retry_after)
        # Exponential backoff with jitter, so that many clients do not retry in step.
        base = self.policy.backoff * (2**attempt)
        return float(min(base + random.uniform(0, base / 2), self.policy.max_retry_after))

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        """GET and decode JSON; retries connection errors, timeouts, 429 and 5xx."""
        return self.get_json_and_digest(url, params)[0]

    def get_json_and_digest(
        self, url: str, params: dict[str, Any] | None = None
    ) -> tuple[Any, str]:
        """As get_json, with a SHA-256 of the body's bytes (a page's fingerprint)."""
        shown = mask_credentials(url)
        last_error = ""
        for attempt in range(self.policy.retries + 1):
            self.heartbeat()
            self._pace()
            response: requests.Response | None = None
            try:
                self.requests_made += 1
                with outgoing.deadline(self.policy.deadline):
                    response = self.session.get(
                        url,
                        params=params,
                        timeout=(self.policy.connect_timeout, self.policy.read_timeout),
                        proxies=self._proxies_for(url),
                    )
            except outgoing.Refused as exc:
                raise FetchError(f"{shown}: {outgoing.plain_reason(exc)}") from exc
            except RETRY_ERRORS as exc:
                last_error = f"{shown}: {outgoing.plain_reason(exc)}"
            finally:
                self._last_request = time.monotonic()
            if response is not None:
                where = mask_credentials(response.url)
                if response.status_code == 200:
                    try:
                        return response.json(), hashlib.sha256(response.content).hexdigest()
                    except (ValueError, json.JSONDecodeError) as exc:
                        raise FetchError(f"{where} did not return valid JSON ({exc})") from exc
                if response.status_code not in RETRY_STATUSES:
                    raise FetchError(
                        f"{where} answered HTTP {response.status_code}",
                        status=response.status_code,
                    )
                last_error = f"{where} answered HTTP {response.status_code}"
            if attempt < self.policy.retries:
                self._wait(self._delay(attempt, response))
        raise FetchError(
            f"{last_error} (gave up after {self.policy.retries + 1} tries)", retryable=True
        )


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
