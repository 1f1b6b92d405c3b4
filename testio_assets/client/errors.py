"""Typed client errors and the redaction every message passes through."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from testio_assets.settings import BASE_URL_ENV, TOKEN_ENV

REDACTED = "***"

# Credentials an exception text might echo: an Authorization header value or URL user-info.
_AUTH_HEADER = re.compile(r"(?i)(authorization['\"]?\s*[:=,]\s*b?['\"]?)[^'\"\r\n,}]+")
_URL_USERINFO = re.compile(r"(://)[^/\s:@]+(:[^/\s@]*)?@")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return ``text`` with every given secret and any credential-looking value masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _AUTH_HEADER.sub(rf"\1{REDACTED}", text)
    return _URL_USERINFO.sub(rf"\1{REDACTED}@", text)


class TestIOConfigError(ValueError):
    """The client's configuration is unusable (e.g. credentials written into the base URL)."""

    __test__ = False


def refuse_url_credentials(url: str, where: str = BASE_URL_ENV) -> str:
    """``url`` unchanged, or :class:`TestIOConfigError` when it carries user-info
    (``https://user:secret@host/...``): credentials in a URL reach logs and run records, and
    httpx would send them as Basic auth in place of the token.

    >>> refuse_url_credentials("https://api.test.io/customer/v2")
    'https://api.test.io/customer/v2'
    """
    try:
        has_userinfo = "@" in (urlsplit(url).netloc or "")
    except ValueError:
        has_userinfo = "@" in url
    if has_userinfo:
        raise TestIOConfigError(
            f"{where} holds credentials before the host ({redact(url)}): credentials in a URL "
            "end up in logs and run records, and would be sent as Basic auth instead of the "
            f"token. Remove them from the URL and put the API token in {TOKEN_ENV}"
        )
    return url


class TestIOError(Exception):
    """Base class of every error the TestIO client raises; messages are already redacted."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, message: str, *, endpoint: str, status: int | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        # The calls of the session that failed (CallStats), set by ingestion's run_fetch.
        self.calls_made = None


class TestIOAuthError(TestIOError):
    """The API refused the token (401) or the token may not read this resource (403)."""

    @classmethod
    def for_status(cls, status: int, endpoint: str, base_url: str) -> TestIOAuthError:
        if status == 401:
            message = (
                f"the API rejected the token (HTTP 401 on {endpoint} at {base_url}): "
                f"check {TOKEN_ENV}: it must hold a valid TestIO customer API token "
                "(no quotes, no 'Token ' prefix, not expired or revoked); "
                f"unset {TOKEN_ENV} to use the built-in simulator instead"
            )
        else:
            message = (
                f"the token has no access to {endpoint} (HTTP 403 at {base_url}): "
                f"check the token in {TOKEN_ENV} belongs to the customer whose data you want "
                "and that TESTIO_CUSTOMER_API_BASE_URL points at that customer's environment "
                "(production vs staging)"
            )
        return cls(message, endpoint=endpoint, status=status)


class TestIORequestError(TestIOError):
    """A final failure: a 4xx other than 408/425/429, or retries exhausted (5xx, timeouts, network).

    ``timed_out`` is True when the last attempt got no answer in time (``status`` is None then).
    """

    def __init__(
        self, message: str, *, endpoint: str, status: int | None = None, timed_out: bool = False
    ) -> None:
        super().__init__(message, endpoint=endpoint, status=status)
        self.timed_out = timed_out


class TestIOResponseError(TestIOError):
    """The API kept answering with a body that is not the documented JSON envelope."""
