"""Webhook delivery: a signed JSON POST of the alert contract, retried with back-off.

The receiver checks `X-Borderwatch-Signature` (an HMAC-SHA256 of the exact body bytes with the
shared secret) before trusting the alert. Server errors and lost connections are retried, since
they pass; other client errors (a wrong secret, a wrong path) are not, since they do not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field

import httpx

from borderwatch.errors import DeliveryError
from borderwatch.models import Alert

SIGNATURE_HEADER = "X-Borderwatch-Signature"


@dataclass(frozen=True)
class WebhookTarget:
    """One receiver and the secret it shares with us (kept out of reprs and logs)."""

    url: str
    secret: str = field(repr=False)


def signature(body: bytes, secret: str) -> str:
    """The header value for `body`: ``sha256=`` and the hex HMAC-SHA256 keyed with `secret`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


def post_webhook(
    alert: Alert,
    url: str,
    secret: str,
    *,
    client: httpx.Client | None = None,
    retries: int = 3,
    backoff_s: float = 1.0,
    timeout_s: float = 10.0,
) -> None:
    """POST `alert.to_contract()` to `url`; retry up to `retries` times, waiting backoff_s·2ⁿ.

    Raises `DeliveryError` naming the URL when the receiver refuses it or never accepts it.
    """
    body = json.dumps(alert.to_contract(), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(body, secret)}
    owned = client is None
    http = client if client is not None else httpx.Client()
    problem = ""
    try:
        for attempt in range(max(retries, 0) + 1):
            if attempt:
                time.sleep(backoff_s * 2 ** (attempt - 1))
            try:
                response = http.post(url, content=body, headers=headers, timeout=timeout_s)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.is_success:
                return
            problem = f"HTTP {response.status_code}"
            if not _retryable(response.status_code):
                raise DeliveryError(f"receiver refused the alert: {problem}", source=url)
        raise DeliveryError(f"gave up after {max(retries, 0) + 1} attempts, last: {problem}", source=url)
    finally:
        if owned:
            http.close()
