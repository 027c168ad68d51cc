"""Delivery: alerts out to an Atom file, signed webhooks and e-mail (the terminal is the CLI's).

    report = deliver(alerts, DeliveryConfig(atom_out=Path("alerts.atom")))
    report.failed    # channel → why; one failing channel never stops the others
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from borderwatch.deliver.atom import write_atom
from borderwatch.deliver.email import SmtpSettings, send_email
from borderwatch.deliver.webhook import SIGNATURE_HEADER, WebhookTarget, post_webhook, signature
from borderwatch.errors import DeliveryError
from borderwatch.models import Alert

__all__ = [
    "SIGNATURE_HEADER",
    "DeliveryConfig",
    "DeliveryReport",
    "SmtpSettings",
    "WebhookTarget",
    "deliver",
    "post_webhook",
    "send_email",
    "signature",
    "write_atom",
]


@dataclass(frozen=True)
class DeliveryConfig:
    """The channels configured in ``[watch]``: any subset, each optional."""

    atom_out: Path | None = None
    webhooks: tuple[WebhookTarget, ...] = ()
    smtp: SmtpSettings | None = None


@dataclass
class DeliveryReport:
    """Which channels took every alert, and why the others did not."""

    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def deliver(
    alerts: Sequence[Alert], config: DeliveryConfig, *, client: httpx.Client | None = None
) -> DeliveryReport:
    """Send `alerts` to every configured channel; a channel stops at its first failure."""
    report = DeliveryReport()
    if not alerts:
        return report
    atom_out = config.atom_out
    if atom_out is not None:
        _attempt(report, f"atom {atom_out}", lambda: write_atom(alerts, atom_out))
    for hook in config.webhooks:

        def post_all(hook: WebhookTarget = hook) -> None:
            for alert in alerts:
                post_webhook(alert, hook.url, hook.secret, client=client)

        _attempt(report, f"webhook {hook.url}", post_all)
    smtp = config.smtp
    if smtp is not None:
        _attempt(report, f"email {smtp.host}:{smtp.port}", lambda: send_email(alerts, smtp))
    return report


def _attempt(report: DeliveryReport, channel: str, send: Callable[[], object]) -> None:
    try:
        send()
    except DeliveryError as exc:
        report.failed[channel] = exc.message
    else:
        report.delivered.append(channel)
