"""E-mail through the SMTP server of ``BOTARENA_SMTP_URL``: ``smtp://`` (plain, or STARTTLS
with ``?starttls=true``), ``smtps://`` (TLS from the start); the URL's user and password, if
any, log in. The URL's password never appears in a log line or an error."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from botarena.settings import Settings

_PORTS = {"smtp": 25, "smtps": 465}
_TRUE = {"1", "true", "yes", "on"}


class MailConfigError(ValueError):
    """A BOTARENA_SMTP_URL that cannot be used (the password never in the sentence)."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool  # TLS from the first byte (smtps)
    starttls: bool
    username: str | None
    password: str | None

    def __repr__(self) -> str:
        return f"SmtpServer({self.host}:{self.port}, tls={self.tls}, starttls={self.starttls})"


def smtp_server(settings: Settings) -> SmtpServer | None:
    """The configured SMTP server, or None when e-mail is off."""
    if settings.smtp_url is None or not settings.smtp_url.get_secret_value():
        return None
    parts = urlsplit(settings.smtp_url.get_secret_value())
    scheme = parts.scheme.lower()
    if scheme not in _PORTS:
        raise MailConfigError("BOTARENA_SMTP_URL must start with smtp:// or smtps://")
    try:
        port = parts.port or _PORTS[scheme]
    except ValueError as exc:
        raise MailConfigError("BOTARENA_SMTP_URL has an invalid port") from exc
    if not parts.hostname:
        raise MailConfigError("BOTARENA_SMTP_URL names no host")
    query = parse_qs(parts.query)
    starttls = any(value.lower() in _TRUE for value in query.get("starttls", []))
    return SmtpServer(
        host=parts.hostname,
        port=port,
        tls=scheme == "smtps",
        starttls=starttls and scheme == "smtp",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def message(sender: str, to: str, subject: str, text: str) -> EmailMessage:
    """A plain-text message."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(text)
    return mail


def tls_context() -> ssl.SSLContext:
    """The system's trust store, the server's certificate checked against its host name."""
    return ssl.create_default_context()


def send(server: SmtpServer, mail: EmailMessage, timeout: float) -> None:
    """Hand ``mail`` to the server; raises :class:`smtplib.SMTPException` or
    :class:`OSError` when it was not accepted."""
    context = tls_context()
    client: smtplib.SMTP
    if server.tls:
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=timeout)
    with client:
        if server.starttls:
            client.starttls(context=context)
        if server.username is not None:
            client.login(server.username, server.password or "")
        client.send_message(mail)
