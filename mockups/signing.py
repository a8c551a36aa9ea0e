"""Signed mockup URLs: HMAC-SHA256 with the shop's secret over the canonical path and parameters.

canonical = path + "?" + "&".join(quote(k) + "=" + quote(v) for k, v in sorted(params))
where `sig` is left out, `quote` escapes everything but RFC 3986 unreserved characters
(A-Z a-z 0-9 - _ . ~), values are the decoded query values, and sorting is by key then value.
sig = lowercase hex HMAC-SHA256(secret, canonical). Both the current and the previous secret
verify, so an owner can rotate without breaking published URLs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlencode

from studio.models import Shop

SIG_PARAM = "sig"


def _q(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_string(path: str, params: Iterable[tuple[str, str]]) -> str:
    items = sorted((k, v) for k, v in params if k != SIG_PARAM)
    return path + "?" + "&".join(f"{_q(k)}={_q(v)}" for k, v in items)


def signature(secret: str, path: str, params: Iterable[tuple[str, str]]) -> str:
    message = canonical_string(path, params).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(shop: Shop, path: str, params: Iterable[tuple[str, str]], sig: str) -> bool:
    params = list(params)
    ok = False
    for secret in (shop.url_signing_secret, shop.url_signing_secret_previous):
        if secret:
            # Check every secret (no early exit) so timing does not tell which one matched.
            ok |= hmac.compare_digest(signature(secret, path, params), sig.lower())
    return ok


def signed_query(shop: Shop, path: str, params: Mapping[str, str]) -> str:
    """The query string for `path` with `params` and their signature (with the current secret)."""
    items = [(k, str(v)) for k, v in params.items() if v not in (None, "")]
    items.sort()
    sig = signature(shop.url_signing_secret, path, items)
    return urlencode([*items, (SIG_PARAM, sig)], quote_via=quote, safe="-_.~")
