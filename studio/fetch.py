"""The one SSRF-safe fetcher for user-supplied URLs (uploads by URL, reference images, mockup
assets, webhook deliveries, remote engines' output downloads).

Rules: http/https only; no userinfo, backslashes, whitespace or control characters anywhere in
the URL (parsers disagree about them); a well-formed host name (labels of 1-63 characters,
253 in all); the host is resolved once and EVERY address must be public (no loopback, private,
link-local, CGNAT, multicast, reserved, unspecified, IPv4-mapped private); the connection is
pinned to the checked address (the URL keeps the name, so the Host header, TLS SNI and the
certificate check all use it); redirects are followed by hand, at most 3, each re-checked.

One wall-clock deadline covers the whole fetch: name resolution, connect, TLS, request,
response headers and body, across every redirect. It is enforced on every socket operation, so
a server that trickles its headers a byte at a time cannot hold a worker past it. At most
`FETCH_CONCURRENCY_PER_SHOP` fetches run at once for one shop (slots in Django's cache).
`settings.FETCH_ALLOWED_NETWORKS` (CIDRs) may open specific networks (tests, an internal CDN).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx
from django.conf import settings

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
MAX_REDIRECTS = 3
USER_AGENT = "studio-fetcher/1"

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
log = logging.getLogger(__name__)


class FetchError(Exception):
    """The URL may not be fetched or the fetch failed; the message is for the user."""

    def __init__(
        self, message: str, *, blocked: bool = False, busy: bool = False, too_large: bool = False
    ) -> None:
        super().__init__(message)
        self.blocked = blocked  # True when refused by policy (no connection was made)
        self.busy = busy  # True when the shop already runs its maximum of concurrent fetches
        self.too_large = too_large  # True when the body is over the byte cap


@dataclass(frozen=True)
class FetchResult:
    url: str  # the final URL after redirects
    status: int
    content: bytes
    content_type: str


# --- resolving ----------------------------------------------------------------------------------


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"Cannot resolve host {host!r}.") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# The resolver used when a caller passes none. Looked up at call time, so tests can replace it
# (tests/conftest.py installs a stub: no test may ask the real DNS about outside names).
default_resolver: Resolver = system_resolver

# getaddrinfo has no timeout of its own: it runs on these threads while the caller waits at
# most until its deadline. A lookup that hangs keeps its thread; with all of them stuck,
# further lookups time out instead of piling up.
_dns_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="studio-dns")


def _resolve(resolver: Resolver, host: str, port: int, deadline: float) -> list[str]:
    future = _dns_pool.submit(resolver, host, port)
    try:
        return future.result(timeout=max(deadline - time.monotonic(), 0.001))
    except FutureTimeout:
        future.cancel()
        raise FetchError(f"Resolving {host!r} took too long.") from None


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
    except (OSError, ValueError):
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


# --- URL and host-name rules --------------------------------------------------------------------

# Characters that different URL parsers read differently (or that Python's urlsplit silently
# drops, like tab and newline): refused anywhere in the URL.
_AMBIGUOUS = re.compile(r"[\\\x00-\x1f\x7f]")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z")


def host_name_problem(host: str) -> str:
    """Why `host` (lower-case, no brackets, not an IP literal) is not a usable DNS name, or ""."""
    if len(host) > 253:
        return "The URL's host name is longer than 253 characters."
    labels = host.removesuffix(".").split(".")
    for label in labels:
        if not label:
            return "The URL's host name has an empty label."
        if len(label) > 63:
            return "The URL's host name has a label longer than 63 characters."
        if not _LABEL.match(label):
            return "The URL's host name contains characters a host name cannot have."
    return ""


def _ascii_host(host: str) -> str:
    """The host in the ASCII form DNS uses (IDNA for international names)."""
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise FetchError("The URL's host name is not a valid name.", blocked=True) from exc


@dataclass(frozen=True)
class CheckedUrl:
    url: str  # the URL to request: the host in ASCII form
    scheme: str
    host: str
    port: int
    address: str  # the checked address the connection is pinned to


def parse_url(url: str) -> tuple[str, str, int, str]:
    """Check a URL's shape without resolving it: (scheme, ASCII host, port, normalised URL).

    Raises FetchError(blocked=True) for anything the fetcher would refuse by its shape."""
    if not isinstance(url, str) or not url:
        raise FetchError("The URL is empty.", blocked=True)
    if len(url) > 4096:
        raise FetchError("The URL is longer than 4096 characters.", blocked=True)
    if _AMBIGUOUS.search(url):
        raise FetchError("The URL contains control characters or backslashes.", blocked=True)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("The URL is not valid.", blocked=True) from exc
    if parts.scheme not in ("http", "https"):
        raise FetchError("Only http and https URLs can be fetched.", blocked=True)
    if "@" in parts.netloc:
        raise FetchError("URLs with a user name or password are not fetched.", blocked=True)
    raw_host = parts.hostname or ""
    if not raw_host:
        raise FetchError("The URL has no host.", blocked=True)
    literal = parse_ip_literal(raw_host)
    if literal is not None:
        host = str(literal)
    else:
        host = _ascii_host(raw_host)
        problem = host_name_problem(host)
        if problem:
            raise FetchError(problem, blocked=True)
    port = port or (443 if parts.scheme == "https" else 80)
    default_port = 443 if parts.scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    netloc = shown if port == default_port else f"{shown}:{port}"
    normalised = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return parts.scheme, host, port, normalised


def check_url(
    url: str, resolver: Resolver | None = None, *, deadline: float | None = None
) -> CheckedUrl:
    """Validate a URL and resolve it. Raises FetchError."""
    scheme, host, port, normalised = parse_url(url)
    literal = parse_ip_literal(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        if deadline is None:
            deadline = time.monotonic() + DEFAULT_TIMEOUT
        addresses = _resolve(resolver or default_resolver, host, port, deadline)
    if not addresses:
        raise FetchError(f"Cannot resolve host {host!r}.")
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            raise FetchError(f"Cannot resolve host {host!r}.") from None
        if not is_public_address(ip):
            raise FetchError(
                "The URL points to a private or reserved address; it was not fetched.", blocked=True
            )
    return CheckedUrl(normalised, scheme, host, port, addresses[0])


# --- the deadline, on every socket operation ----------------------------------------------------


class _Deadline:
    def __init__(self, until: float) -> None:
        self.until = until

    def budget(self, timeout: float | None, exc: type[Exception]) -> float:
        left = self.until - time.monotonic()
        if left <= 0:
            raise exc("the fetch deadline passed")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A socket stream whose every read, write and TLS handshake ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline, opened: Any) -> None:
        self._inner = inner
        self._deadline = deadline
        self._opened = opened
        opened.add(self)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.budget(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.budget(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._opened.discard(self)
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        budget = self._deadline.budget(timeout, httpcore.ConnectTimeout)
        self._opened.discard(self)
        return _Stream(
            self._inner.start_tls(ssl_context, server_hostname, budget),
            self._deadline,
            self._opened,
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)

    def abort(self) -> None:
        """Wake a thread blocked on this socket (shutdown does; close alone may not)."""
        sock = self._inner.get_extra_info("socket")
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Backend(httpcore.NetworkBackend):
    """Connects to the checked address (pinning) and wraps streams in the deadline."""

    def __init__(self, address: str | None, until: float) -> None:
        self._inner = httpcore.SyncBackend()
        self._address = address
        self._deadline = _Deadline(until)
        self.opened: set[_Stream] = set()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            self._address or host,
            port,
            timeout=self._deadline.budget(timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _Stream(stream, self._deadline, self.opened)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self._deadline.until - time.monotonic())))

    def abort(self) -> None:
        for stream in list(self.opened):
            stream.abort()


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport with a wall-clock deadline on every socket operation and, when
    `address` is given, every connection pinned to that address whatever the URL's host."""

    def __init__(self, *, until: float, address: str | None = None) -> None:
        super().__init__(trust_env=False)
        self.backend = _Backend(address, until)
        # httpx does not take a network backend; the pool it would have built is replaced by
        # the same pool on ours (httpx keeps its request/exception mapping around `_pool`).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=4,
            network_backend=self.backend,
        )

    def abort(self) -> None:
        """End every request in flight on this transport (from any thread)."""
        self.backend.abort()


# --- per-shop concurrency -----------------------------------------------------------------------


@contextmanager
def shop_slot(shop: Any, seconds: float) -> Iterator[None]:
    """Hold one of the shop's FETCH_CONCURRENCY_PER_SHOP slots while fetching.

    Slots are Django cache keys added with a TTL just past the fetch deadline, so a process
    killed mid-fetch frees its slot by itself. Waits up to FETCH_SLOT_WAIT_SECONDS (inside the
    deadline) for a free slot, then refuses with FetchError(busy=True). When the cache is
    unreachable the fetch goes ahead: the deadline still bounds it.
    """
    from django.core.cache import cache

    cap = int(getattr(settings, "FETCH_CONCURRENCY_PER_SHOP", 4))
    if shop is None or cap <= 0:
        yield
        return
    shop_key = getattr(shop, "pk", shop)
    token = secrets.token_hex(8)
    ttl = math.ceil(seconds) + 5
    wait_until = time.monotonic() + min(
        float(getattr(settings, "FETCH_SLOT_WAIT_SECONDS", 2.0)), seconds
    )
    held = ""
    try:
        while not held:
            for i in range(cap):
                key = f"fetch-slot:{shop_key}:{i}"
                if cache.add(key, token, timeout=ttl):
                    held = key
                    break
            if held or time.monotonic() >= wait_until:
                break
            time.sleep(0.05)
    except Exception:  # the cache is down: fail open, the deadline still bounds the fetch
        log.warning("fetch slots unavailable (cache error); fetching without a slot")
        held = "-"
    if not held:
        raise FetchError(
            f"This shop already has {cap} downloads running; try again in a few seconds.",
            busy=True,
        )
    try:
        yield
    finally:
        if held != "-":
            with suppress(Exception):
                if cache.get(held) == token:
                    cache.delete(held)


# --- fetching ---------------------------------------------------------------------------------


def fetch(
    url: str,
    *,
    method: str = "GET",
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float | None = None,
    max_redirects: int = MAX_REDIRECTS,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    resolver: Resolver | None = None,
    transport: httpx.BaseTransport | None = None,
    shop: Any = None,
) -> FetchResult:
    """Fetch a user-supplied URL under the rules above, all within `timeout` seconds of wall
    clock (default FETCH_DEADLINE_SECONDS). `shop` (a Shop or its id) counts the fetch against
    that shop's concurrency cap. `transport` replaces the network (tests); the checks still run.
    Raises FetchError."""
    if timeout is None:
        timeout = float(getattr(settings, "FETCH_DEADLINE_SECONDS", DEFAULT_TIMEOUT))
    until = time.monotonic() + timeout
    with shop_slot(shop, timeout):
        return _fetch(
            url,
            method=method,
            max_bytes=max_bytes,
            until=until,
            max_redirects=max_redirects,
            headers=headers,
            content=content,
            resolver=resolver,
            transport=transport,
        )


_TIMEOUT_MESSAGE = "The remote server did not answer in time."


def _fetch(
    url: str,
    *,
    method: str,
    max_bytes: int,
    until: float,
    max_redirects: int,
    headers: dict[str, str] | None,
    content: bytes | None,
    resolver: Resolver | None,
    transport: httpx.BaseTransport | None,
) -> FetchResult:
    current = url
    for _hop in range(max_redirects + 1):
        checked = check_url(current, resolver, deadline=until)
        left = until - time.monotonic()
        if left <= 0:
            raise FetchError(_TIMEOUT_MESSAGE)
        hop_transport = transport or DeadlineTransport(until=until, address=checked.address)
        with httpx.Client(
            # httpx's own per-operation timeouts stay as a second line; the deadline rules.
            timeout=httpx.Timeout(left, connect=min(left, 5.0)),
            follow_redirects=False,
            transport=hop_transport,
            trust_env=False,
        ) as client:
            request = client.build_request(
                method,
                checked.url,
                content=content,
                headers={"User-Agent": USER_AGENT, **(headers or {})},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise FetchError(_TIMEOUT_MESSAGE) from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"Could not fetch the URL ({type(exc).__name__}).") from exc
            try:
                if response.status_code in (301, 302, 303, 307, 308):
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError("The remote server sent a redirect without a location.")
                    current = urljoin(checked.url, location)
                    if response.status_code == 303:
                        method, content = "GET", None
                    continue
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(
                        f"The remote file is larger than {max_bytes:,} bytes.", too_large=True
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise FetchError(
                            f"The remote file is larger than {max_bytes:,} bytes.", too_large=True
                        )
                    if time.monotonic() > until:
                        raise FetchError(_TIMEOUT_MESSAGE)
                return FetchResult(
                    checked.url,
                    response.status_code,
                    bytes(body),
                    response.headers.get("content-type", "").split(";")[0].strip(),
                )
            except httpx.TimeoutException as exc:
                raise FetchError(_TIMEOUT_MESSAGE) from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"Could not fetch the URL ({type(exc).__name__}).") from exc
            finally:
                response.close()
    raise FetchError(f"Too many redirects (more than {max_redirects}).")
