"""HTTP plumbing shared by the remote engines: clients with explicit timeouts, retries with
backoff that honour Retry-After, provider error messages, and downloads of provider outputs.

Engines never store a provider's URL: outputs are fetched here at once and handed back as bytes.
An output on the provider's own API host is read with the engine's client (that host is
configured by the operator and may be private); any other URL a provider hands back, and any
redirect away from its host, goes through the SSRF-safe fetcher (`studio.fetch`): public
addresses only, every redirect re-checked, one wall-clock deadline (ENGINE_DOWNLOAD_SECONDS).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.utils
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

from generations.engines.base import Engine, EngineError, EngineImage, EngineNotConfigured
from generations.loader import ImageRejected, load_image
from studio.fetch import DeadlineTransport, FetchError, fetch

# Statuses worth retrying: rate limits, transient server trouble, gateway time-outs.
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
# Longest wait we sleep through inside a worker; longer Retry-After values re-queue the job.
MAX_INLINE_WAIT = 30.0


def setting_float(name: str, default: float) -> float:
    """A number from django.conf.settings (read from the environment in studio/settings.py);
    `default` when the setting is absent or not a number."""
    try:
        return float(getattr(settings, name, default))
    except (TypeError, ValueError):
        return default


def setting_str(name: str) -> str:
    return str(getattr(settings, name, "") or "").strip()


@dataclass
class RetryPolicy:
    """How often and how long to retry. `sleep` is injectable so tests do not wait."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    jitter: bool = True

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        delay = min(self.max_delay, self.base_delay * (2**attempt))
        return delay * random.uniform(0.8, 1.2) if self.jitter else delay


def timeouts(read: float | None = None) -> httpx.Timeout:
    """Explicit connect and read timeouts (ENGINE_CONNECT_TIMEOUT / ENGINE_READ_TIMEOUT)."""
    connect = setting_float("ENGINE_CONNECT_TIMEOUT", 10.0)
    read = read if read is not None else setting_float("ENGINE_READ_TIMEOUT", 120.0)
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


def make_client(
    base_url: str = "",
    *,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    read_timeout: float | None = None,
) -> httpx.Client:
    """A client for one provider's API. Its transport can end requests in flight from another
    thread (`abort_client`), which is how a canceled job closes its provider call."""
    return httpx.Client(
        base_url=base_url,
        headers={"User-Agent": "studio-engines/1", **(headers or {})},
        auth=auth,
        timeout=timeouts(read_timeout),
        follow_redirects=True,
        transport=DeadlineTransport(until=math.inf),
    )


def abort_client(client: httpx.Client) -> None:
    """End the requests `client` has in flight (their reads fail at once), from any thread."""
    transport = getattr(client, "_transport", None)
    if isinstance(transport, DeadlineTransport):
        transport.abort()
    client.close()


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is seconds or an HTTP date; also accepts fractional seconds."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def provider_message(response: httpx.Response) -> str:
    """The provider's own words for an error, from the shapes the providers use."""
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] or f"HTTP {response.status_code}"
    return message_from(body) or f"HTTP {response.status_code}"


def message_from(body: Any) -> str:
    if isinstance(body, str):
        return body[:500]
    if isinstance(body, list):
        parts = [message_from(item) for item in body[:5]]
        return "; ".join(p for p in parts if p)[:500]
    if not isinstance(body, dict):
        return ""
    # OpenAI: {"error": {"message": ..}}; ComfyUI: {"error": {"message": .., "details": ..}};
    # Replicate / fal / FastAPI: {"detail": ..}; Stability: {"name": .., "errors": [..]};
    # A1111: {"error": .., "detail": .., "errors": ..}.
    error, errors = body.get("error"), body.get("errors")
    if isinstance(error, str) and isinstance(errors, str) and error and errors:
        return f"{error}: {errors}"[:500]  # AUTOMATIC1111: exception name + its message
    for key in ("error", "detail", "errors", "message", "msg", "title"):
        if body.get(key):
            value = body[key]
            if isinstance(value, dict):
                inner = message_from(value)
                details = value.get("details")
                if inner and isinstance(details, str) and details and details not in inner:
                    inner = f"{inner}: {details}"
                if inner:
                    return inner[:500]
                continue
            found = message_from(value)
            if found:
                name = body.get("name")
                if key == "errors" and isinstance(name, str) and name:
                    return f"{name}: {found}"[:500]
                return found
    return ""


class Transport:
    """Sends requests for one engine with retries; raises EngineError with the provider's words."""

    def __init__(self, provider: str, retry: RetryPolicy | None = None) -> None:
        self.provider = provider
        self.retry = retry or RetryPolicy()

    def request(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        *,
        ok: tuple[int, ...] = (),
        attempts: int | None = None,
        max_bytes: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries on 429/5xx/timeouts. Statuses in `ok` (besides 2xx) are returned.
        With `max_bytes` the body is streamed and refused once it grows past the limit (and
        `follow_redirects=False` may be passed to see a redirect instead of following it)."""
        last: EngineError | None = None
        attempts = attempts or self.retry.attempts
        for attempt in range(attempts):
            try:
                response = self._send(client, method, url, max_bytes, **kwargs)
            except httpx.TimeoutException as exc:
                last = EngineError(
                    f"{self.provider} did not answer in time ({type(exc).__name__}).",
                    retryable=True,
                )
                retry_after = None
            except httpx.TransportError as exc:
                last = EngineError(
                    f"Could not reach {self.provider} ({type(exc).__name__}: {exc}).",
                    retryable=True,
                )
                retry_after = None
            else:
                if response.is_success or response.status_code in ok:
                    return response
                message = f"{self.provider}: {provider_message(response)}"
                if response.status_code in (401, 403) and not self._is_policy(response):
                    message += f" (HTTP {response.status_code}: check the credentials)"
                if response.status_code not in RETRY_STATUSES:
                    raise EngineError(message, retryable=False)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                last = EngineError(message, retryable=True, retry_after=retry_after)
                if retry_after is not None and retry_after > MAX_INLINE_WAIT:
                    # Too long to hold a worker: hand it back to the job queue.
                    raise last
            if attempt + 1 < attempts:
                self.retry.sleep(self.retry.delay(attempt, retry_after))
        assert last is not None  # noqa: S101 - the loop ran at least once
        raise last

    def _send(
        self, client: httpx.Client, method: str, url: str, max_bytes: int | None, **kwargs: Any
    ) -> httpx.Response:
        follow = kwargs.pop("follow_redirects", None)
        if max_bytes is None:
            if follow is not None:
                kwargs["follow_redirects"] = follow
            return client.request(method, url, **kwargs)
        request = client.build_request(method, url, **kwargs)
        response = client.send(
            request,
            stream=True,
            follow_redirects=client.follow_redirects if follow is None else follow,
        )
        try:
            declared = response.headers.get("Content-Length", "")
            too_big = EngineError(
                f"{self.provider} returned an output larger than {max_bytes:,} bytes."
            )
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_big
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise too_big
        finally:
            response.close()
        # The body is decoded already: drop the headers that describe the wire form.
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=bytes(body), request=request
        )

    @staticmethod
    def _is_policy(response: httpx.Response) -> bool:
        text = response.text.lower()
        return "moderation" in text or "content_policy" in text or "safety" in text

    def json(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> Any:
        response = self.request(client, method, url, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise EngineError(
                f"{self.provider} answered with something that is not JSON.", retryable=True
            ) from exc


def decode_data_uri(uri: str) -> tuple[bytes, str]:
    header, _, payload = uri.partition(",")
    content_type = header[5:].split(";")[0] or "application/octet-stream"
    try:
        if ";base64" in header:
            return base64.b64decode(payload, validate=False), content_type
        from urllib.parse import unquote_to_bytes

        return unquote_to_bytes(payload), content_type
    except (binascii.Error, ValueError) as exc:
        raise EngineError("The provider returned a malformed data URI.") from exc


def b64decode(value: str, provider: str) -> bytes:
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise EngineError(f"{provider} returned malformed base64 image data.") from exc


def data_uri(data: bytes, content_type: str = "image/png") -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


REDIRECTS = frozenset({301, 302, 303, 307, 308})


def download(
    transport: Transport,
    url: str,
    *,
    auth_client: httpx.Client | None = None,
    max_bytes: int | None = None,
) -> tuple[bytes, str]:
    """Fetch an output URL now (provider URLs expire).

    On the provider's own API host (`auth_client`'s base URL) the engine's client reads it,
    with its credentials, without following redirects. Every other URL, and wherever the
    provider's host redirects to, goes through the SSRF-safe fetcher without credentials."""
    if url.startswith("data:"):
        return decode_data_uri(url)
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise EngineError(f"{transport.provider} returned an output URL we cannot fetch: {url!r}.")
    limit = max_bytes or int(getattr(settings, "ENGINE_MAX_OUTPUT_BYTES", 0) or 200 * 1024 * 1024)
    same_host = auth_client is not None and (
        urlsplit(str(auth_client.base_url)).netloc == urlsplit(url).netloc
    )
    if same_host and auth_client is not None:
        response = transport.request(
            auth_client,
            "GET",
            url,
            max_bytes=limit,
            follow_redirects=False,
            ok=tuple(REDIRECTS),
        )
        location = response.headers.get("Location", "")
        if response.status_code not in REDIRECTS:
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            return response.content, content_type
        if not location:
            raise EngineError(f"{transport.provider} sent a redirect without a location.")
        url = urljoin(url, location)
    return _safe_download(transport, url, limit)


def _safe_download(transport: Transport, url: str, limit: int) -> tuple[bytes, str]:
    """A URL the provider pointed at: the SSRF-safe fetcher, retried like API calls."""
    seconds = float(getattr(settings, "ENGINE_DOWNLOAD_SECONDS", 120.0))
    policy = transport.retry
    last: EngineError | None = None
    for attempt in range(policy.attempts):
        try:
            result = fetch(url, max_bytes=limit, timeout=seconds)
        except FetchError as exc:
            if exc.blocked:  # refused by policy: retrying cannot help
                raise EngineError(
                    f"{transport.provider} returned an output URL we will not fetch: {exc}"
                ) from exc
            if exc.too_large:
                raise EngineError(
                    f"{transport.provider} returned an output larger than {limit:,} bytes."
                ) from exc
            last = EngineError(
                f"Could not download the {transport.provider} output: {exc}", retryable=True
            )
        else:
            if result.status == 200:
                return result.content, result.content_type
            message = f"Downloading the {transport.provider} output failed: HTTP {result.status}."
            if result.status not in RETRY_STATUSES:
                raise EngineError(message)
            last = EngineError(message, retryable=True)
        if attempt + 1 < policy.attempts:
            policy.sleep(policy.delay(attempt, None))
    assert last is not None  # noqa: S101 - the loop ran at least once
    raise last


def image_output(data: bytes, provider: str, **metadata: Any) -> EngineImage:
    """Check provider bytes with the one loader and describe them."""
    try:
        loaded = load_image(data)
    except ImageRejected as exc:
        raise EngineError(f"{provider} returned an unusable image: {exc}") from exc
    seed = metadata.pop("seed", None)
    return EngineImage(
        data=data,
        content_type=loaded.content_type,
        width=loaded.width,
        height=loaded.height,
        seed=int(seed) if isinstance(seed, int | str) and str(seed).isdigit() else None,
        metadata={k: v for k, v in metadata.items() if v is not None},
    )


def media_output(data: bytes, content_type: str, provider: str, **metadata: Any) -> EngineImage:
    """An output that may be a video: images go through the loader; video keeps its own type."""
    if content_type.startswith("video/") or data[4:8] == b"ftyp" or data[:4] == b"\x1aE\xdf\xa3":
        # Video is not decoded here; the operation that asked for it makes its poster.
        return EngineImage(
            data=data,
            content_type=content_type if content_type.startswith("video/") else "video/mp4",
            width=int(metadata.pop("width", 0) or 0),
            height=int(metadata.pop("height", 0) or 0),
            metadata={k: v for k, v in metadata.items() if v is not None},
        )
    return image_output(data, provider, **metadata)


class Deadline:
    """A wall-clock budget for polling a provider (ENGINE_JOB_TIMEOUT seconds)."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = (
            seconds if seconds is not None else setting_float("ENGINE_JOB_TIMEOUT", 900.0)
        )
        self.until = time.monotonic() + self.seconds

    def expired(self) -> bool:
        return time.monotonic() >= self.until


def split_provider_model(value: str) -> tuple[str, dict[str, Any]]:
    """`owner/model?steps=4&go_fast=true` → ("owner/model", {"steps": 4, "go_fast": True}).

    Lets a public model name pin fixed provider inputs (a quality, a step count) in the catalogue.
    """
    import json
    from urllib.parse import parse_qsl

    name, _, query = value.partition("?")
    options: dict[str, Any] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True):
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return name, options


class RemoteEngine(Engine):
    """An engine reached over HTTP. Subclasses name their credential and base-URL settings."""

    provider: ClassVar[str] = ""
    base_url_setting: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""

    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        poll_interval: float | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.transport = Transport(self.provider, retry)
        self._poll_interval = poll_interval
        self.sleep = sleep if sleep is not None else time.sleep

    @property
    def poll_interval(self) -> float:
        """Seconds between status polls (settings.ENGINE_POLL_INTERVAL, read at use)."""
        if self._poll_interval is not None:
            return self._poll_interval
        return setting_float("ENGINE_POLL_INTERVAL", 1.0)

    def is_configured(self) -> bool:
        return bool(setting_str(self.required_setting))

    @property
    def base_url(self) -> str:
        return (setting_str(self.base_url_setting) or self.default_base_url).rstrip("/")

    def credential(self) -> str:
        value = setting_str(self.required_setting)
        if not value:
            raise EngineNotConfigured(f"the {self.provider} engine", self.required_setting)
        return value


# How long a canceled call may take to end once its client was aborted.
ABORT_GRACE_SECONDS = 10.0


def with_heartbeat(
    call: Callable[[], Any],
    progress: Callable[[int, str], None],
    percent: int,
    stage: str,
    every: float | None = None,
    *,
    client: httpx.Client | None = None,
) -> Any:
    """Run a blocking provider call on a helper thread while this thread reports progress every
    few seconds (ENGINE_HEARTBEAT_SECONDS). The reports renew the job's lease, so a long request
    is not mistaken for a lost worker, and a cancel (JobCanceled from progress) stops the wait.

    On a cancel the call's `client` is aborted (its socket reads fail at once) and the helper
    thread is waited for, so no provider call outlives the job that made it."""
    from concurrent.futures import ThreadPoolExecutor

    every = every if every is not None else setting_float("ENGINE_HEARTBEAT_SECONDS", 10.0)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="provider-call")
    future = pool.submit(call)
    try:
        while True:
            try:
                return future.result(timeout=every)
            except TimeoutError:
                progress(percent, stage)
    except BaseException:
        if client is not None:
            abort_client(client)
        with contextlib.suppress(BaseException):
            future.result(timeout=ABORT_GRACE_SECONDS)  # its own error no longer matters
        raise
    finally:
        # A finished call's thread exits at once; one still running (past the grace period)
        # is left to its client's time-outs rather than blocking the worker.
        pool.shutdown(wait=future.done())
