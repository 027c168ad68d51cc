"""E-mail delivery through an SMTP server: one plain-text message per alert.

Plain text only: alert text quotes untrusted articles, and a plain body cannot run script in a
mail client. Header values are stripped of line breaks so an article cannot inject headers.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from borderwatch.errors import DeliveryError
from borderwatch.models import Alert


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail; the password is read from the environment, never the file."""

    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 25
    starttls: bool = False
    """Upgrade the connection with STARTTLS before anything else (refused if the server lacks it)."""
    username: str | None = None
    password_env: str | None = None
    """Name of the environment variable holding the password for `username`."""
    timeout_s: float = 20.0


def subject(alert: Alert) -> str:
    """One line naming the severity, the rule and, when there is one, the border."""
    text = f"[Borderwatch] {alert.severity.upper()} {alert.rule}"
    if alert.border:
        text += f" on {alert.border}"
    return " ".join(text.split())


def body(alert: Alert) -> str:
    """The alert as plain text: facts first, then the explanation, then each evidence sentence."""
    lines = [
        f"Severity: {alert.severity}",
        f"Rule: {alert.rule}",
        f"As of: {alert.as_of}",
    ]
    if alert.border:
        lines.append(f"Border: {alert.border}")
    if alert.sites:
        lines.append(f"Sites: {', '.join(alert.sites)}")
    if alert.events:
        lines.append(f"Events: {', '.join(alert.events)}")
    lines += ["", alert.explanation, "", "Evidence:"]
    lines += [f"- {e.text}\n  (document {e.doc}, characters {e.start}-{e.end})" for e in alert.evidence]
    return "\n".join(lines) + "\n"


def send_email(alerts: Alert | Sequence[Alert], settings: SmtpSettings) -> None:
    """Send each alert as its own message over one SMTP session; raise `DeliveryError` on failure."""
    batch = [alerts] if isinstance(alerts, Alert) else list(alerts)
    source = f"smtp://{settings.host}:{settings.port}"
    password = None
    if settings.username:
        password = os.environ.get(settings.password_env or "")
        if password is None:
            raise DeliveryError(
                f"SMTP user {settings.username!r} needs a password in ${settings.password_env}",
                source=source,
            )
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username and password is not None:
                smtp.login(settings.username, password)
            for alert in batch:
                smtp.send_message(_message(alert, settings))
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"cannot send mail: {type(exc).__name__}: {exc}", source=source) from exc


def _message(alert: Alert, settings: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(alert)
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message.set_content(body(alert))
    return message
