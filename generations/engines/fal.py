"""fal queue: POST {queue}/{model} → request_id with status_url / response_url / cancel_url;
poll the status (IN_QUEUE with queue_position, IN_PROGRESS with logs, COMPLETED), then fetch the
result and download its files. Cancel is PUT {cancel_url}.

Credentials: FAL_KEY (sent as `Authorization: Key …`); base URL: FAL_QUEUE_URL.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx

from generations.engines.base import (
    Capability,
    EngineError,
    EngineImage,
    GenerationRequest,
    JobCanceled,
    OperationRequest,
    ProgressFn,
    record_upstream,
)
from generations.engines.http import (
    Deadline,
    RemoteEngine,
    data_uri,
    download,
    make_client,
    media_output,
    split_provider_model,
)
from generations.engines.registry import register_engine
from generations.engines.replicate import nearest_ratio

FAL_RATIOS = ("21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16", "9:21")


def app_id(model: str) -> str:
    """fal's status/result routes use the app id: the first two path segments of the model."""
    parts = model.strip("/").split("/")
    return "/".join(parts[:2])


def result_files(result: Any) -> list[dict[str, Any]]:
    """Files in a fal result: {"images": [..]}, {"image": {..}}, {"video": {..}}."""
    if not isinstance(result, dict):
        return []
    files: list[dict[str, Any]] = []
    for key in ("images", "image", "video", "videos"):
        value = result.get(key)
        if isinstance(value, dict) and value.get("url"):
            files.append(value)
        elif isinstance(value, list):
            files.extend(v for v in value if isinstance(v, dict) and v.get("url"))
    return files


@register_engine
class FalEngine(RemoteEngine):
    name = "fal"
    provider = "fal"
    capabilities = frozenset(
        {
            Capability.TEXT_TO_IMAGE,
            Capability.IMAGE_TO_IMAGE,
            Capability.INPAINT,
            Capability.BACKGROUND_REMOVAL,
            Capability.UPSCALE,
            Capability.VIDEO,
        }
    )
    required_setting = "FAL_KEY"
    base_url_setting = "FAL_QUEUE_URL"
    default_base_url = "https://queue.fal.run"

    def _client(self) -> httpx.Client:
        return make_client(self.base_url, headers={"Authorization": f"Key {self.credential()}"})

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        model, options = split_provider_model(request.provider_model or request.model)
        size_style = str(options.pop("_size", "image_size"))
        image_field = str(options.pop("_image_field", "image_urls"))
        edit_model = str(options.pop("_edit_model", "") or "")
        body: dict[str, Any] = {"prompt": request.prompt}
        if size_style == "aspect_ratio":
            body["aspect_ratio"] = nearest_ratio(request.width, request.height, FAL_RATIOS)
        else:
            body["image_size"] = {"width": request.width, "height": request.height}
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if request.seed is not None:
            body["seed"] = request.seed
        sources = [request.init_image] if request.init_image else request.reference_images
        if sources:
            # Reference-guided generation runs on the model's edit endpoint where it has one.
            model = edit_model or model
            uris = [data_uri(s) for s in sources if s]
            body[image_field] = uris if image_field.endswith("s") else uris[0]
        if request.mask_image:
            body["mask_url"] = data_uri(request.mask_image)
        body.update(options)
        out: list[EngineImage] = []
        # Models that ignore num_images make one per request: ask again for the rest.
        for _ in range(request.count):
            want = request.count - len(out)
            if want <= 0:
                break
            body["num_images"] = want
            if request.seed is not None:
                body["seed"] = request.seed + len(out)
            done = len(out)

            def scaled(percent: int, stage: str, done: int = done, want: int = want) -> None:
                progress((100 * done + percent * want) // request.count, stage)

            out.extend(self.run(model, body, scaled))
        return out[: request.count]

    def run_operation(self, request: OperationRequest, progress: ProgressFn) -> list[EngineImage]:
        if request.capability not in self.capabilities:
            return super().run_operation(request, progress)
        model, options = split_provider_model(request.provider_model or request.model)
        image_field = str(options.pop("_image_field", "image_url"))
        body: dict[str, Any] = {image_field: data_uri(request.image)}
        if request.mask is not None:
            body["mask_url"] = data_uri(request.mask)
        if request.prompt:
            body["prompt"] = request.prompt
        for key in ("scale", "seed", "duration", "aspect_ratio"):
            if request.params.get(key) not in (None, ""):
                body[key] = request.params[key]
        body.update(options)
        return self.run(model, body, progress)

    def cancel(self, handle: dict[str, Any]) -> None:
        if not handle.get("request_id") or not self.is_configured():
            return
        url = handle.get("cancel_url") or (
            f"/{app_id(str(handle.get('model', '')))}/requests/{handle['request_id']}/cancel"
        )
        with self._client() as client:
            # 202 CANCELLATION_REQUESTED; 400 ALREADY_COMPLETED; 404 unknown: all fine here.
            self.transport.request(client, "PUT", self._own_url(url), ok=(400, 404), attempts=1)

    # --- one request -------------------------------------------------------------------------------

    def run(self, model: str, body: dict[str, Any], progress: ProgressFn) -> list[EngineImage]:
        deadline = Deadline()
        with self._client() as client:
            progress(1, f"submitting to fal ({model})")
            submitted = self.transport.json(client, "POST", f"/{model.strip('/')}", json=body)
            request_id = submitted.get("request_id") if isinstance(submitted, dict) else None
            if not request_id:
                raise EngineError("fal did not return a request id.", retryable=True)
            base = f"/{app_id(model)}/requests/{request_id}"
            status_url = self._own_url(submitted.get("status_url") or f"{base}/status")
            response_url = self._own_url(submitted.get("response_url") or base)
            cancel_url = self._own_url(submitted.get("cancel_url") or f"{base}/cancel")
            handle = {
                "engine": self.name,
                "request_id": request_id,
                "model": model,
                "cancel_url": cancel_url,
            }
            try:
                record_upstream(handle)
                self._wait(client, status_url, submitted, progress, deadline, cancel_url)
            except JobCanceled:
                self._cancel_quietly(client, cancel_url)
                raise
            progress(90, "fetching the result from fal")
            result = self.transport.json(client, "GET", response_url)
            return self._outputs(client, result, request_id)

    def _wait(
        self,
        client: httpx.Client,
        status_url: str,
        status: dict[str, Any],
        progress: ProgressFn,
        deadline: Deadline,
        cancel_url: str,
    ) -> None:
        first = True
        while status.get("status") != "COMPLETED":
            if deadline.expired():
                self._cancel_quietly(client, cancel_url)
                raise EngineError(
                    f"fal did not finish within {deadline.seconds:.0f} s; canceled upstream."
                )
            state = status.get("status", "IN_QUEUE")
            if state == "IN_QUEUE":
                position = status.get("queue_position")
                where = f" (position {position})" if position is not None else ""
                progress(3, f"queued at fal{where}")
            elif state == "IN_PROGRESS":
                logs = status.get("logs") or []
                last = logs[-1].get("message", "") if logs and isinstance(logs[-1], dict) else ""
                progress(40, f"running on fal{': ' + last[:120] if last else ''}")
            if not first:
                self.sleep(self.poll_interval)
            first = False
            status = self.transport.json(client, "GET", status_url, params={"logs": "1"})
            if not isinstance(status, dict):
                raise EngineError("fal returned an unreadable status.", retryable=True)
        if status.get("error"):
            raise EngineError(f"fal: {status['error']}", retryable=False)

    def _outputs(self, client: httpx.Client, result: Any, request_id: str) -> list[EngineImage]:
        files = result_files(result)
        if not files:
            raise EngineError("fal: the request completed but returned no files.")
        flags = result.get("has_nsfw_concepts") if isinstance(result, dict) else None
        if isinstance(flags, list) and flags and len(flags) == len(files):
            kept = [f for f, flagged in zip(files, flags, strict=True) if not flagged]
            if not kept:
                raise EngineError(
                    "fal: the safety checker flagged every output (content filtered)."
                )
            files = kept
        seed = result.get("seed") if isinstance(result, dict) else None
        out = []
        for item in files:
            data, content_type = download(self.transport, str(item["url"]), auth_client=client)
            out.append(
                media_output(
                    data,
                    item.get("content_type") or content_type,
                    self.provider,
                    seed=seed,
                    request_id=request_id,
                    width=item.get("width"),
                    height=item.get("height"),
                )
            )
        return out

    def _own_url(self, url: str) -> str:
        base = httpx.URL(self.base_url)
        target = httpx.URL(url)
        if target.is_relative_url:
            return url
        if target.host != base.host:
            # Never send the key elsewhere: keep the path, use the configured queue host.
            return str(target.copy_with(scheme=base.scheme, host=base.host, port=base.port))
        return url

    def _cancel_quietly(self, client: httpx.Client, cancel_url: str) -> None:
        with contextlib.suppress(EngineError):
            self.transport.request(client, "PUT", cancel_url, ok=(400, 404), attempts=1)
