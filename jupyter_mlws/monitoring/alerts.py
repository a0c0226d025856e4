"""Alerts of a drift detector: when a check finds the drift magnitude above the detector's
``drift_threshold``, an activity is recorded (the sidebar and a JupyterLab notification show it), a
webhook gets a JSON POST, and each address of ``AlertConfiguration.email_addresses`` gets an email —
only when an SMTP server is configured (``MLWS_SMTP_HOST``, optionally ``MLWS_SMTP_PORT``,
``MLWS_SMTP_FROM``, ``MLWS_SMTP_USER`` / ``MLWS_SMTP_PASSWORD``, ``MLWS_SMTP_STARTTLS=1``); otherwise the
alert says that no email went out and why.

Sending never fails a check: what could not be delivered is written in the alert's activity log."""

from __future__ import annotations

import json
import os
import smtplib
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..core.activities import ActivityRecorder
from ..errors import InvalidArgumentError

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["ALERT_ACTIVITY", "AlertConfiguration", "send_alert"]

#: The kind of an alert's activity.
ALERT_ACTIVITY = "drift.alert"
WEBHOOK_TIMEOUT_S = 10


class AlertConfiguration:
    """Who hears of drift (v1's name): ``email_addresses`` and, here, a ``webhook_url``."""

    def __init__(self, email_addresses: Sequence[str] | str | None = None, webhook_url: str | None = None) -> None:
        if isinstance(email_addresses, str):
            email_addresses = [email_addresses]
        addresses = [str(a).strip() for a in (email_addresses or [])]
        for address in addresses:
            if "@" not in address or " " in address:
                raise InvalidArgumentError(
                    f"email address {address!r} is not an address; give e.g. ['ops@example.com']"
                )
        if webhook_url is not None:
            _check_url(str(webhook_url))
        self.email_addresses = addresses
        self.webhook_url = str(webhook_url) if webhook_url is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {"email_addresses": list(self.email_addresses), "webhook_url": self.webhook_url}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AlertConfiguration:
        data = data or {}
        return cls(data.get("email_addresses") or [], data.get("webhook_url"))

    def __repr__(self) -> str:
        return f"AlertConfiguration(email_addresses={self.email_addresses!r}, webhook_url={self.webhook_url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AlertConfiguration) and self.to_dict() == other.to_dict()


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is no number raises here
    except ValueError as exc:
        raise InvalidArgumentError(f"webhook_url {url!r} is no URL ({exc}); give e.g. http://host:8080/hook") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError(f"webhook_url {url!r} must be an http:// or https:// URL with a host")


def _post(url: str, payload: Mapping[str, Any]) -> str:
    request = urllib.request.Request(  # noqa: S310 - the URL's scheme is checked when configured
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as reply:  # noqa: S310
            return f"webhook {url}: HTTP {reply.status}"
    except urllib.error.HTTPError as exc:
        return f"webhook {url} answered HTTP {exc.code}: the alert was not accepted"
    except (urllib.error.URLError, OSError) as exc:
        return f"webhook {url} could not be reached: {getattr(exc, 'reason', exc)}"
    except Exception as exc:  # anything else of a POST is this delivery's failure, never the check's
        return f"webhook {url} failed: {type(exc).__name__}: {exc}"


def _email(addresses: Sequence[str], subject: str, body: str) -> str:
    host = os.environ.get("MLWS_SMTP_HOST")
    if not host:
        return "email not sent: no SMTP server is configured (set MLWS_SMTP_HOST, and MLWS_SMTP_PORT if not 25)"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = os.environ.get("MLWS_SMTP_FROM", "jupyter-mlws@localhost")
    message["To"] = ", ".join(addresses)
    message.set_content(body)
    port_text = os.environ.get("MLWS_SMTP_PORT", "25")
    if not port_text.isdigit():
        return f"email not sent: MLWS_SMTP_PORT={port_text!r} is no port number"
    try:
        with smtplib.SMTP(host, int(port_text), timeout=WEBHOOK_TIMEOUT_S) as smtp:
            if os.environ.get("MLWS_SMTP_STARTTLS") == "1":
                smtp.starttls()
            user = os.environ.get("MLWS_SMTP_USER")
            if user:
                smtp.login(user, os.environ.get("MLWS_SMTP_PASSWORD", ""))
            smtp.send_message(message)
    except Exception as exc:  # smtplib's and the network's errors: this delivery failed, not the check
        return f"email to {', '.join(addresses)} failed: {type(exc).__name__}: {exc}"
    return f"email sent to {', '.join(addresses)}"


def send_alert(
    workspace: Workspace, config: AlertConfiguration, payload: Mapping[str, Any], run_id: str | None = None
) -> str:
    """Raise one alert; answers its activity id. ``payload``: ``detector``, ``interval_start``,
    ``interval_end``, ``magnitude``, ``threshold``, ``top_features`` (what the webhook receives)."""
    title = (
        f"Data drift: {payload['detector']} magnitude {payload['magnitude']:.1f} above "
        f"{payload['threshold']:.1f} ({payload['interval_start'][:10]} to {payload['interval_end'][:10]})"
    )
    recorder = ActivityRecorder(workspace, ALERT_ACTIVITY, title, run_id=run_id, details=dict(payload))
    outcomes: list[str] = []
    try:
        recorder.log(title)
        recorder.log("top features: " + ", ".join(payload.get("top_features") or []))
        if config.webhook_url:
            outcomes.append(_post(config.webhook_url, payload))
        if config.email_addresses:
            body = f"{title}\n\n{json.dumps(dict(payload), indent=2)}\n"
            outcomes.append(_email(config.email_addresses, title, body))
        for line in outcomes:
            recorder.log(line)
    finally:  # the alert is recorded as raised whatever its delivery did
        recorder.finish(details={**payload, "delivery": outcomes}, progress=outcomes[-1] if outcomes else title)
    return recorder.activity_id
