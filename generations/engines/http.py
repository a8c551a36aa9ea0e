"""HTTP plumbing shared by the remote engines: clients with explicit timeouts, retries with
backoff that honour Retry-After, provider error messages, and downloads of provider outputs.

Engines never store a provider's URL: outputs are fetched here at once and handed back as bytes.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from generations.engines.base import Engine, EngineError, EngineImage, EngineNotConfigured
from generations.loader import ImageRejected, load_image

# Statuses worth retrying: rate limits, transient server trouble, gateway time-outs.
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
# Longest wait we sleep through inside a worker; longer Retry-After values re-queue the job.
MAX_INLINE_WAIT = 30.0


def env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


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
    connect = env_float("ENGINE_CONNECT_TIMEOUT", 10.0)
    read = read if read is not None else env_float("ENGINE_READ_TIMEOUT", 120.0)
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


def make_client(
    base_url: str = "",
    *,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    read_timeout: float | None = None,
) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        headers={"User-Agent": "studio-engines/1", **(headers or {})},
        auth=auth,
        timeout=timeouts(read_timeout),
        follow_redirects=True,
    )


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
        With `max_bytes` the body is streamed and refused once it grows past the limit."""
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
        if max_bytes is None:
            return client.request(method, url, **kwargs)
        request = client.build_request(method, url, **kwargs)
        response = client.send(request, stream=True)
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


def download(
    transport: Transport,
    url: str,
    *,
    auth_client: httpx.Client | None = None,
    max_bytes: int | None = None,
) -> tuple[bytes, str]:
    """Fetch an output URL now (provider URLs expire). Sends credentials only to the provider's
    own API host (`auth_client`'s base URL); CDN links get a plain client."""
    if url.startswith("data:"):
        return decode_data_uri(url)
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise EngineError(f"{transport.provider} returned an output URL we cannot fetch: {url!r}.")
    limit = max_bytes or int(getattr(settings, "ENGINE_MAX_OUTPUT_BYTES", 0) or 200 * 1024 * 1024)
    same_host = auth_client is not None and (
        urlsplit(str(auth_client.base_url)).netloc == urlsplit(url).netloc
    )
    client = auth_client if same_host and auth_client is not None else make_client()
    try:
        response = transport.request(client, "GET", url, max_bytes=limit)
    finally:
        if client is not auth_client:
            client.close()
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    return response.content, content_type


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
        self.seconds = seconds if seconds is not None else env_float("ENGINE_JOB_TIMEOUT", 900.0)
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
    """An engine reached over HTTP. Subclasses name their credential and base-URL variables."""

    provider: ClassVar[str] = ""
    base_url_env: ClassVar[str] = ""
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
        """Seconds between status polls (ENGINE_POLL_INTERVAL, read at use)."""
        if self._poll_interval is not None:
            return self._poll_interval
        return env_float("ENGINE_POLL_INTERVAL", 1.0)

    def is_configured(self) -> bool:
        return bool(os.environ.get(self.required_setting, "").strip())

    @property
    def base_url(self) -> str:
        return (os.environ.get(self.base_url_env, "") or self.default_base_url).rstrip("/")

    def credential(self) -> str:
        value = os.environ.get(self.required_setting, "").strip()
        if not value:
            raise EngineNotConfigured(f"the {self.provider} engine", self.required_setting)
        return value


def with_heartbeat(
    call: Callable[[], Any],
    progress: Callable[[int, str], None],
    percent: int,
    stage: str,
    every: float | None = None,
) -> Any:
    """Run a blocking provider call on a helper thread while this thread reports progress every
    few seconds (ENGINE_HEARTBEAT_SECONDS). The reports renew the job's lease, so a long request
    is not mistaken for a lost worker, and a cancel (JobCanceled from progress) stops the wait."""
    from concurrent.futures import ThreadPoolExecutor

    every = every if every is not None else env_float("ENGINE_HEARTBEAT_SECONDS", 10.0)
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(call)
    try:
        while True:
            try:
                return future.result(timeout=every)
            except TimeoutError:
                progress(percent, stage)
    finally:
        # Never block on an abandoned call; closing its client ends it.
        pool.shutdown(wait=False)
