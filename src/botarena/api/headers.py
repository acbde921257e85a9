"""Security headers on every HTTP response, and the Content Security Policies they carry.

Every answer says: do not guess its type (``nosniff``), send no referrer from it, never show it
in a frame. A JSON answer gets a policy that loads nothing; an HTML page gets one that loads
only from this server (a page may set a stricter one of its own, with a nonce, and keeps it).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASELINE: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
# What is not a page loads nothing, and may be framed by no one.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# A page loads from this server only; its icons may be data: URLs.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
_CSP = b"content-security-policy"


def baseline_headers(*, page: bool = False) -> dict[str, str]:
    """The headers every response carries, for a response built outside the middleware."""
    headers = dict(BASELINE)
    headers["Content-Security-Policy"] = PAGE_POLICY if page else API_POLICY
    return headers


def page_policy(nonce: str) -> str:
    """The policy of a page whose one inline script carries ``nonce``.

    Inline style attributes stay allowed: Swagger UI renders the API's Markdown with them.
    """
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


class SecurityHeadersMiddleware:
    """Adds :data:`BASELINE` and a Content Security Policy to each response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(key).lower() for key, _ in headers}
                for name, value in BASELINE:
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                if _CSP not in present:
                    policy = PAGE_POLICY if _is_html(headers) else API_POLICY
                    headers.append((_CSP, policy.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    for key, value in headers:
        if bytes(key).lower() == b"content-type":
            return bytes(value).lower().startswith(b"text/html")
    return False
