"""Replicate predictions: create (with `Prefer: wait`), poll `urls.get`, cancel.

Official models are run by name (POST /v1/models/{owner}/{name}/predictions); a pinned version
(`owner/name:version`) goes to POST /v1/predictions. Statuses: starting, processing, succeeded,
failed, canceled. Output URLs expire after an hour: they are downloaded at once.
Credentials: REPLICATE_API_TOKEN; base URL: REPLICATE_BASE_URL.
"""

from __future__ import annotations

import contextlib
import re
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
    setting_float,
    setting_str,
    split_provider_model,
)
from generations.engines.registry import register_engine

# Aspect ratios most Replicate image models accept.
ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
FINAL = ("succeeded", "failed", "canceled")
PERCENT = re.compile(r"(\d{1,3})%\|")


def nearest_ratio(width: int, height: int, choices: tuple[str, ...] = ASPECT_RATIOS) -> str:
    want = width / max(height, 1)

    def value(r: str) -> float:
        a, b = r.split(":")
        return float(a) / float(b)

    return min(choices, key=lambda r: abs(value(r) - want))


def log_percent(logs: str) -> int | None:
    """The last tqdm-style percentage in a prediction's logs ("..  45%|████ ..")."""
    found = PERCENT.findall(logs or "")
    return min(100, int(found[-1])) if found else None


def output_urls(output: Any) -> list[str]:
    if output is None:
        return []
    if isinstance(output, str):
        return [output]
    if isinstance(output, list):
        return [u for item in output for u in output_urls(item)]
    if isinstance(output, dict):
        for key in ("images", "image", "video", "output", "url"):
            if key in output:
                return output_urls(output[key])
    return []


@register_engine
class ReplicateEngine(RemoteEngine):
    name = "replicate"
    provider = "Replicate"
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
    required_setting = "REPLICATE_API_TOKEN"
    base_url_setting = "REPLICATE_BASE_URL"
    default_base_url = "https://api.replicate.com"

    def _client(self) -> httpx.Client:
        wait = self._wait_seconds()
        return make_client(
            self.base_url,
            headers={"Authorization": f"Bearer {self.credential()}"},
            read_timeout=max(setting_float("ENGINE_READ_TIMEOUT", 120.0), wait + 15),
        )

    @staticmethod
    def _wait_seconds() -> int:
        # Prefer: wait=N holds the request open up to N (1-60) seconds for a fast model.
        return max(1, min(60, int(setting_float("REPLICATE_WAIT_SECONDS", 60))))

    # --- the interface -----------------------------------------------------------------------------

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        model, options = split_provider_model(request.provider_model or request.model)
        image_field = str(options.pop("_image_field", "image"))
        single_image = image_field in ("image", "input_image")
        inputs: dict[str, Any] = {
            "prompt": request.prompt,
            "aspect_ratio": nearest_ratio(request.width, request.height),
        }
        if request.negative_prompt:
            inputs["negative_prompt"] = request.negative_prompt
        if request.seed is not None:
            inputs["seed"] = request.seed
        sources = [request.init_image] if request.init_image else request.reference_images
        if sources:
            uris = [data_uri(s) for s in sources if s]
            inputs[image_field] = uris[0] if single_image else uris
        if request.mask_image:
            inputs["mask"] = data_uri(request.mask_image)
        inputs.update(options)
        out: list[EngineImage] = []
        # Some models make one image per prediction: run more until we have what was asked.
        for _ in range(request.count):
            want = request.count - len(out)
            if want <= 0:
                break
            if want > 1:
                inputs["num_outputs"] = want
            else:
                inputs.pop("num_outputs", None)
            if request.seed is not None:
                inputs["seed"] = request.seed + len(out)
            out.extend(self.run(model, inputs, progress, done=len(out), total=request.count))
        return out[: request.count]

    def run_operation(self, request: OperationRequest, progress: ProgressFn) -> list[EngineImage]:
        if request.capability not in self.capabilities:
            return super().run_operation(request, progress)
        model, options = split_provider_model(request.provider_model or request.model)
        image_field = str(options.pop("_image_field", "image"))
        inputs: dict[str, Any] = {image_field: data_uri(request.image)}
        if request.mask is not None:
            inputs[str(options.pop("_mask_field", "mask"))] = data_uri(request.mask)
        if request.prompt:
            inputs["prompt"] = request.prompt
        for key in ("scale", "seed", "duration", "aspect_ratio"):
            if request.params.get(key) not in (None, ""):
                inputs[key] = request.params[key]
        inputs.update(options)
        return self.run(model, inputs, progress, done=0, total=1)

    def cancel(self, handle: dict[str, Any]) -> None:
        prediction = str(handle.get("id", ""))
        if not prediction or not self.is_configured():
            return
        with self._client() as client:
            self.transport.request(
                client,
                "POST",
                f"/v1/predictions/{prediction}/cancel",
                ok=(404, 409, 422),
                attempts=1,
            )

    # --- one prediction ----------------------------------------------------------------------------

    def run(
        self,
        model: str,
        inputs: dict[str, Any],
        progress: ProgressFn,
        *,
        done: int,
        total: int,
    ) -> list[EngineImage]:
        def report(percent: int, stage: str) -> None:
            progress((100 * done + percent) // max(total, 1), stage)

        deadline = Deadline()
        with self._client() as client:
            report(1, f"starting {model} on Replicate")
            prediction = self._create(client, model, inputs)
            handle = {"engine": self.name, "id": prediction.get("id", "")}
            try:
                record_upstream(handle)
                prediction = self._wait(client, prediction, report, deadline)
            except JobCanceled:
                self._cancel_quietly(client, prediction)
                raise
            status = prediction.get("status")
            if status == "failed":
                raise EngineError(
                    f"Replicate: {prediction.get('error') or 'the prediction failed'}",
                    retryable=False,
                )
            if status == "canceled":
                raise EngineError("Replicate: the prediction was canceled.")
            urls = output_urls(prediction.get("output"))
            if not urls:
                raise EngineError("Replicate: the prediction succeeded but returned no output.")
            report(95, "downloading from Replicate")
            out = []
            for url in urls:
                data, content_type = download(self.transport, url, auth_client=client)
                out.append(media_output(data, content_type, self.provider, prediction=handle["id"]))
            return out

    def _create(self, client: httpx.Client, model: str, inputs: dict[str, Any]) -> dict[str, Any]:
        headers = {"Prefer": f"wait={self._wait_seconds()}"}
        if ":" in model:
            _, version = model.split(":", 1)
            body: dict[str, Any] = {"version": version, "input": inputs}
            url = "/v1/predictions"
        else:
            if model.count("/") != 1:
                raise EngineError(f"Replicate model names look like owner/name, not {model!r}.")
            body = {"input": inputs}
            url = f"/v1/models/{model}/predictions"
        webhook = setting_str("REPLICATE_WEBHOOK_URL")
        if webhook:
            # Optional: Replicate also notifies this URL when the prediction finishes (for an
            # operator's monitoring); the job itself still follows the prediction by polling.
            body["webhook"] = webhook
            body["webhook_events_filter"] = ["completed"]
        answer = self.transport.json(client, "POST", url, json=body, headers=headers)
        if not isinstance(answer, dict) or not answer.get("id"):
            raise EngineError("Replicate did not return a prediction.", retryable=True)
        return answer

    def _wait(
        self,
        client: httpx.Client,
        prediction: dict[str, Any],
        report: ProgressFn,
        deadline: Deadline,
    ) -> dict[str, Any]:
        while prediction.get("status") not in FINAL:
            if deadline.expired():
                self._cancel_quietly(client, prediction)
                raise EngineError(
                    f"Replicate did not finish within {deadline.seconds:.0f} s; canceled upstream."
                )
            status = prediction.get("status", "starting")
            percent = log_percent(str(prediction.get("logs") or ""))
            if status == "starting":
                report(3, "waiting for a Replicate worker (starting)")
            else:
                report(5 + int(0.85 * (percent or 0)), f"running on Replicate ({percent or 0}%)")
            self.sleep(self.poll_interval)
            url = (prediction.get("urls") or {}).get("get") or f"/v1/predictions/{prediction['id']}"
            prediction = self.transport.json(client, "GET", self._own_url(url))
        return prediction

    def _own_url(self, url: str) -> str:
        # Only ever send the token to the configured API host.
        base = httpx.URL(self.base_url)
        target = httpx.URL(url)
        if target.is_relative_url or target.host == base.host:
            return url
        return str(target.copy_with(scheme=base.scheme, host=base.host, port=base.port))

    def _cancel_quietly(self, client: httpx.Client, prediction: dict[str, Any]) -> None:
        with contextlib.suppress(EngineError):
            self.transport.request(
                client,
                "POST",
                f"/v1/predictions/{prediction['id']}/cancel",
                ok=(404, 409, 422),
                attempts=1,
            )
