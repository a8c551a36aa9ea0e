"""The one SSRF-safe fetcher for user-supplied URLs (uploads by URL, mockup assets, webhooks).

Rules: http/https only; the host is resolved once and EVERY address must be public (no
loopback, private, link-local, CGNAT, multicast, reserved, unspecified, IPv4-mapped private);
the connection is pinned to the checked address (Host header and TLS SNI keep the name, so the
certificate is still verified against it); redirects are followed by hand, at most 3, each
re-checked; byte and time caps. Decimal/hex/octal IPv4 spellings are normalised before checks.
`settings.FETCH_ALLOWED_NETWORKS` (CIDRs) may open specific networks (tests, an internal CDN).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
MAX_REDIRECTS = 3
USER_AGENT = "studio-fetcher/1"

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The URL may not be fetched or the fetch failed; the message is for the user."""

    def __init__(self, message: str, *, blocked: bool = False) -> None:
        super().__init__(message)
        self.blocked = blocked  # True when refused by policy (no connection was made)


@dataclass(frozen=True)
class FetchResult:
    url: str  # the final URL after redirects
    status: int
    content: bytes
    content_type: str


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"Cannot resolve host {host!r}.") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def parse_ip_literal(host: str) -> IPAddress | None:
    """An IP address written any way a resolver would accept it, or None for a name."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        # inet_aton accepts the legacy spellings: 2130706433, 0x7f000001, 0177.0.0.1, 127.1
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(n, strict=False)
        for n in getattr(settings, "FETCH_ALLOWED_NETWORKS", [])
    ]


def is_public_address(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:
            return is_public_address(mapped)
    if any(ip in net for net in _allowed_networks()):
        return True
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback
    )


def check_url(url: str, resolver: Resolver = system_resolver) -> tuple[str, int, str, str]:
    """Validate a URL and resolve it: (scheme, port, host, pinned address). Raises FetchError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("The URL is not valid.", blocked=True) from exc
    if parts.scheme not in ("http", "https"):
        raise FetchError("Only http and https URLs can be fetched.", blocked=True)
    host = parts.hostname or ""
    if not host:
        raise FetchError("The URL has no host.", blocked=True)
    port = port or (443 if parts.scheme == "https" else 80)
    literal = parse_ip_literal(host)
    addresses = [str(literal)] if literal is not None else resolver(host, port)
    if not addresses:
        raise FetchError(f"Cannot resolve host {host!r}.")
    for address in addresses:
        if not is_public_address(ipaddress.ip_address(address.split("%")[0])):
            raise FetchError(
                "The URL points to a private or reserved address; it was not fetched.", blocked=True
            )
    return parts.scheme, port, host, addresses[0]


def _pinned_url(url: str, address: str, port: int) -> str:
    parts = urlsplit(url)
    ip = ipaddress.ip_address(address)
    netloc = f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


@contextmanager
def _client(timeout: float, transport: httpx.BaseTransport | None) -> Iterator[httpx.Client]:
    with httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=False,
        transport=transport,
        trust_env=False,
    ) as client:
        yield client


def fetch(
    url: str,
    *,
    method: str = "GET",
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    max_redirects: int = MAX_REDIRECTS,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    resolver: Resolver = system_resolver,
    transport: httpx.BaseTransport | None = None,
) -> FetchResult:
    """Fetch a user-supplied URL under the rules above. Raises FetchError."""
    deadline = time.monotonic() + timeout
    current = url
    with _client(timeout, transport) as client:
        for _hop in range(max_redirects + 1):
            scheme, port, host, address = check_url(current, resolver)
            default_port = 443 if scheme == "https" else 80
            host_header = host if port == default_port else f"{host}:{port}"
            if ":" in host and not host.startswith("["):
                host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
            extensions: dict[str, Any] = {"sni_hostname": host} if scheme == "https" else {}
            request = client.build_request(
                method,
                _pinned_url(current, address, port),
                content=content,
                headers={"User-Agent": USER_AGENT, **(headers or {}), "Host": host_header},
                extensions=extensions,
            )
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise FetchError("The remote server did not answer in time.") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"Could not fetch the URL ({type(exc).__name__}).") from exc
            try:
                if response.status_code in (301, 302, 303, 307, 308):
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError("The remote server sent a redirect without a location.")
                    current = urljoin(current, location)
                    if response.status_code == 303:
                        method, content = "GET", None
                    continue
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(f"The remote file is larger than {max_bytes:,} bytes.")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise FetchError(f"The remote file is larger than {max_bytes:,} bytes.")
                    if time.monotonic() > deadline:
                        raise FetchError("The remote server did not answer in time.")
                return FetchResult(
                    current,
                    response.status_code,
                    bytes(body),
                    response.headers.get("content-type", "").split(";")[0].strip(),
                )
            except httpx.TimeoutException as exc:
                raise FetchError("The remote server did not answer in time.") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"Could not fetch the URL ({type(exc).__name__}).") from exc
            finally:
                response.close()
    raise FetchError(f"Too many redirects (more than {max_redirects}).")
