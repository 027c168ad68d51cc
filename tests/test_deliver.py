"""Delivery against real receivers on 127.0.0.1: the Atom file, signed webhooks, SMTP mail.

Alerts are built directly from the model; their text plays the attacker (markup, control
characters), since alert explanations and evidence quote untrusted articles.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from borderwatch.deliver import (
    SIGNATURE_HEADER,
    DeliveryConfig,
    SmtpSettings,
    WebhookTarget,
    deliver,
    post_webhook,
    send_email,
    write_atom,
)
from borderwatch.deliver.atom import ATOM, entry_id
from borderwatch.errors import DeliveryError
from borderwatch.models import Alert, AlertEvidence

SECRET = "correct horse battery staple"
PAYLOAD = '<script>alert("owned")</script> & <b>bold</b>\x00\x1b'
EVIDENCE = "Columns of Belarusian tanks were seen moving south towards the Ukrainian border near Mazyr."


def make_alert(alert_id: str = "alert-1", *, severity: str = "high", as_of: str = "2022-01-10",
               explanation: str = "Armour is massing on the Belarus–Ukraine border.") -> Alert:
    return Alert(
        id=alert_id, rule="troops-near-border", severity=severity,  # type: ignore[arg-type]
        as_of=as_of, border="BLR-UKR", sites=["chernobyl"], explanation=explanation, events=["c-1"],
        evidence=[AlertEvidence(doc="d" * 64, start=0, end=len(EVIDENCE), text=EVIDENCE)],
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- Atom -------------------------------------------------------------------------------------


def atom_entries(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{ATOM}}}feed"
    return root.findall(f"{{{ATOM}}}entry")


def ids(path: Path) -> list[str]:
    return [entry.findtext(f"{{{ATOM}}}id") or "" for entry in atom_entries(path)]


def test_the_atom_file_is_a_valid_feed_of_the_alerts_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "alerts.atom"
    older, newer = make_alert("a-old", as_of="2022-01-10"), make_alert("a-new", as_of="2022-02-01")
    assert write_atom([older, newer], path) == 2
    parsed = feedparser.parse(path.read_bytes())
    assert (parsed.version, parsed.bozo) == ("atom10", False)
    assert [e.id for e in parsed.entries] == [entry_id("a-new"), entry_id("a-old")]
    entry = parsed.entries[0]
    assert entry.title == "HIGH troops-near-border on BLR-UKR"
    assert entry.summary == "Armour is massing on the Belarus–Ukraine border."
    assert EVIDENCE in entry.content[0].value
    assert {t.term for t in entry.tags} == {"high", "troops-near-border"}
    root = ET.parse(path).getroot()  # the elements RFC 4287 requires of a feed and its entries
    for element in (root, *atom_entries(path)):
        for required in ("id", "title", "updated"):
            assert element.findtext(f"{{{ATOM}}}{required}")
    assert root.findtext(f"{{{ATOM}}}author/{{{ATOM}}}name") == "Borderwatch"


def test_markup_in_alert_text_is_escaped_not_executed(tmp_path: Path) -> None:
    path = tmp_path / "alerts.atom"
    write_atom([make_alert("<id>&\"x", explanation=PAYLOAD)], path)
    raw = path.read_text(encoding="utf-8")
    assert "<script>" not in raw and "<b>" not in raw
    assert "&lt;script&gt;" in raw
    (entry,) = atom_entries(path)  # still well-formed XML despite NUL and ESC in the input
    assert entry.findtext(f"{{{ATOM}}}summary") == '<script>alert("owned")</script> & <b>bold</b>\ufffd\ufffd'
    assert entry.findtext(f"{{{ATOM}}}id") == "urn:borderwatch:alert:%3Cid%3E%26%22x"


def test_rewriting_merges_by_alert_id_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "alerts.atom"
    first, second, third = (make_alert(f"a-{n}", as_of=f"2022-01-1{n}") for n in (1, 2, 3))
    write_atom([first, second], path)
    assert write_atom([second, third], path) == 1
    assert ids(path) == [entry_id("a-3"), entry_id("a-2"), entry_id("a-1")]

    unchanged = path.read_bytes()
    assert write_atom([first, second, third], path) == 0
    assert path.read_bytes() == unchanged  # nothing new: the file is not even rewritten

    escalated = make_alert("a-1", severity="high", as_of="2022-01-11",
                           explanation="Armour is now within artillery range of the plant.")
    assert write_atom([escalated], path) == 1
    assert ids(path) == [entry_id("a-1"), entry_id("a-3"), entry_id("a-2")]
    assert atom_entries(path)[0].findtext(f"{{{ATOM}}}summary") == escalated.explanation


def test_a_file_that_is_not_an_atom_feed_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "index.html"
    path.write_text("<html><body>not a feed</body></html>", encoding="utf-8")
    with pytest.raises(DeliveryError, match="not an Atom feed") as refused:
        write_atom([make_alert()], path)
    assert refused.value.stage == "deliver"
    assert path.read_text(encoding="utf-8") == "<html><body>not a feed</body></html>"


def test_an_unreadable_or_unwritable_feed_is_a_delivery_error(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.atom"
    truncated.write_text(f'<feed xmlns="{ATOM}"><entry>', encoding="utf-8")
    with pytest.raises(DeliveryError, match="cannot read the existing feed"):
        write_atom([make_alert()], truncated)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(DeliveryError, match="cannot write the feed"):
        write_atom([make_alert()], blocker / "alerts.atom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder", "truncated.atom"]


# --- webhooks ---------------------------------------------------------------------------------


@dataclass
class Receiver:
    """A webhook receiver that checks signatures and answers from a script of statuses."""

    url: str
    secret: str = SECRET
    statuses: list[int] = field(default_factory=list)
    """Answered in turn; once used up, a valid signature gets 200 and a bad one 401."""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


class _HookHandler(BaseHTTPRequestHandler):
    server: Any

    def do_POST(self) -> None:
        receiver: Receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        receiver.received.append((dict(self.headers), body))
        expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, self.headers.get(SIGNATURE_HEADER, ""))
        status = receiver.statuses.pop(0) if receiver.statuses else (200 if valid else 401)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what the receiver got instead."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _HookHandler)
    httpd.receiver = Receiver(url=f"http://127.0.0.1:{httpd.server_address[1]}/hook")  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd.receiver  # type: ignore[attr-defined]
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_a_webhook_gets_the_alert_contract_signed(receiver: Receiver) -> None:
    alert = make_alert(explanation=PAYLOAD)
    post_webhook(alert, receiver.url, SECRET, timeout_s=5)
    ((headers, body),) = receiver.received
    assert json.loads(body) == alert.to_contract()
    assert headers["Content-Type"] == "application/json"
    assert headers[SIGNATURE_HEADER].startswith("sha256=")


def test_server_errors_are_retried_with_back_off(receiver: Receiver) -> None:
    receiver.statuses = [500, 500]
    post_webhook(make_alert(), receiver.url, SECRET, retries=3, backoff_s=0.01, timeout_s=5)
    assert len(receiver.received) == 3
    assert len({body for _, body in receiver.received}) == 1  # the same signed body each time


def test_a_webhook_that_keeps_failing_is_given_up(receiver: Receiver) -> None:
    receiver.statuses = [503] * 10
    with pytest.raises(DeliveryError, match="gave up after 3 attempts, last: HTTP 503"):
        post_webhook(make_alert(), receiver.url, SECRET, retries=2, backoff_s=0.01, timeout_s=5)
    assert len(receiver.received) == 3


def test_a_refused_signature_is_not_retried(receiver: Receiver) -> None:
    with pytest.raises(DeliveryError, match="refused the alert: HTTP 401"):
        post_webhook(make_alert(), receiver.url, "wrong secret", backoff_s=0.01, timeout_s=5)
    assert len(receiver.received) == 1


def test_an_unreachable_webhook_is_retried_then_reported() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(DeliveryError, match="gave up after 2 attempts, last: ConnectError") as failed:
        post_webhook(make_alert(), url, SECRET, retries=1, backoff_s=0.01, timeout_s=2)
    assert failed.value.source == url


# --- e-mail -----------------------------------------------------------------------------------


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[_Mailbox, int]]:
    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), ready_timeout=5)
    controller.start()
    yield box, controller.port
    controller.stop()


def smtp_settings(port: int, **changes: Any) -> SmtpSettings:
    return SmtpSettings(**{"host": "127.0.0.1", "port": port, "sender": "borderwatch@example.org",
                           "to": ("analyst@example.org",), "timeout_s": 5.0, **changes})


def test_an_alert_arrives_by_mail_with_its_evidence(mailbox: tuple[_Mailbox, int]) -> None:
    box, port = mailbox
    send_email(make_alert(explanation=PAYLOAD), smtp_settings(port))
    (message,) = box.messages
    assert box.envelopes == [("borderwatch@example.org", ["analyst@example.org"])]
    assert message["Subject"] == "[Borderwatch] HIGH troops-near-border on BLR-UKR"
    assert message.get_content_type() == "text/plain"
    text = message.get_content()
    assert EVIDENCE in text
    assert "Severity: high" in text and "Border: BLR-UKR" in text and "Sites: chernobyl" in text
    assert '<script>alert("owned")</script>' in text  # plain text: shown, never run


def test_several_alerts_are_one_message_each(mailbox: tuple[_Mailbox, int]) -> None:
    box, port = mailbox
    send_email([make_alert("a-1"), make_alert("a-2", severity="medium")], smtp_settings(port))
    assert [m["Subject"].split()[1] for m in box.messages] == ["HIGH", "MEDIUM"]


def test_starttls_demanded_but_not_offered_sends_nothing(mailbox: tuple[_Mailbox, int]) -> None:
    box, port = mailbox
    with pytest.raises(DeliveryError, match="STARTTLS"):
        send_email(make_alert(), smtp_settings(port, starttls=True))
    assert box.messages == []


def test_a_configured_user_logs_in_with_the_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"hunter2")

    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), ready_timeout=5,
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        monkeypatch.setenv("BW_TEST_SMTP_PASSWORD", "hunter2")
        settings = smtp_settings(controller.port, username="bw", password_env="BW_TEST_SMTP_PASSWORD")
        send_email(make_alert(), settings)
    finally:
        controller.stop()
    assert logins == [(b"bw", b"hunter2")]
    assert len(box.messages) == 1


def test_a_missing_smtp_password_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BW_TEST_SMTP_PASSWORD", raising=False)
    settings = smtp_settings(free_port(), username="bw", password_env="BW_TEST_SMTP_PASSWORD")
    with pytest.raises(DeliveryError, match=r"needs a password in \$BW_TEST_SMTP_PASSWORD"):
        send_email(make_alert(), settings)


# --- fan-out ----------------------------------------------------------------------------------


def test_a_failing_channel_does_not_stop_the_others(
    tmp_path: Path, receiver: Receiver, mailbox: tuple[_Mailbox, int]
) -> None:
    box, port = mailbox
    misconfigured = receiver.url + "-misconfigured"
    config = DeliveryConfig(
        atom_out=tmp_path / "alerts.atom",
        webhooks=(WebhookTarget(misconfigured, "wrong secret"), WebhookTarget(receiver.url, SECRET)),
        smtp=smtp_settings(port),
    )
    alerts = [make_alert("a-1"), make_alert("a-2")]
    report = deliver(alerts, config)
    assert report.failed == {f"webhook {misconfigured}": "receiver refused the alert: HTTP 401"}
    assert report.delivered == [f"atom {tmp_path / 'alerts.atom'}", f"webhook {receiver.url}",
                                f"email 127.0.0.1:{port}"]
    assert len(receiver.received) == 3  # the bad hook stopped at its first alert, the good took both
    assert len(box.messages) == 2
    assert len(atom_entries(tmp_path / "alerts.atom")) == 2
    assert SECRET not in repr(config)


def test_nothing_to_deliver_touches_no_channel(tmp_path: Path) -> None:
    report = deliver([], DeliveryConfig(atom_out=tmp_path / "alerts.atom"))
    assert (report.delivered, report.failed) == ([], {})
    assert not (tmp_path / "alerts.atom").exists()
