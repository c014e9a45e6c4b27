"""GitHub webhook signatures: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    """The header value GitHub sends for `body` signed with `secret`."""
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secrets: Iterable[bytes], body: bytes, header: str | None) -> bool:
    """True when `header` is a valid signature of `body` under any of `secrets`.

    Every secret is checked with a constant-time comparison, and all of them are always
    checked, so timing does not tell which secret matched.
    """
    if not header or not header.startswith(PREFIX):
        return False
    received = header.encode("ascii", "replace")
    matched = False
    for secret in secrets:
        expected = sign(secret, body).encode("ascii")
        matched |= hmac.compare_digest(expected, received)
    return matched
