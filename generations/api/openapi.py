"""The OpenAPI 3.1 document for every API route (all families plus /uploads and /shops/sandbox),
served at /api/openapi.json, and a readable reference page rendered from it at /api/docs.

Written by hand next to the plain-function routes (see docs/api.md for why not django-ninja);
tests/api/test_openapi.py checks every URL pattern of generations/api/urls.py appears here.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from generations.actions import ASPECT_RATIOS
from generations.api.ai import ASPECT_RATIOS_003
from studio.apikeys import SANDBOX_SCOPES, SCOPES

JSON = "application/json"
STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
RATE_HEADERS = {
    name: {"description": text, "schema": schema}
    for name, text, schema in [
        ("X-RateLimit-Limit", "Request limit per window", INT),
        ("X-RateLimit-Remaining", "Remaining requests in current window", INT),
        ("X-RateLimit-Reset", "Unix timestamp when the window resets", INT),
        ("x-ratelimit-limit-requests", "Request limit per window", INT),
        ("x-ratelimit-remaining-requests", "Remaining requests in current window", INT),
        ("x-ratelimit-reset-requests", "Time until the window resets, e.g. 42s", STR),
    ]
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "schema": INT}}
IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Replays the first response for 24 h; 409 for another body or while running.",
    "schema": {"type": "string", "maxLength": 255},
}

SIMPLE_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": STR, "code": STR, "details": {"type": "object"}},
}
ENVELOPE_ERROR = {
    "type": "object",
    "required": ["data", "error", "meta"],
    "properties": {
        "data": {"type": "null"},
        "error": {
            "type": "object",
            "required": ["message", "code"],
            "properties": {"message": STR, "code": STR, "details": {"type": "object"}},
        },
        "meta": {"$ref": "#/components/schemas/Meta"},
    },
}


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, **extra}
    if required:
        schema["required"] = required
    return schema


def err(
    description: str, envelope: str = "simple", example: Any = None, headers: Any = None
) -> dict[str, Any]:
    schema = ENVELOPE_ERROR if envelope == "enveloped" else SIMPLE_ERROR
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    response: dict[str, Any] = {"description": description, "content": {JSON: content}}
    response["headers"] = {**RATE_HEADERS, **(headers or {})}
    return response


def ok(
    description: str, schema: dict[str, Any], example: Any = None, status_headers: Any = None
) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {
        "description": description,
        "headers": {**RATE_HEADERS, **(status_headers or {})},
        "content": {JSON: content},
    }


def common_errors(envelope: str = "simple") -> dict[str, Any]:
    return {
        "400": err("Invalid request", envelope),
        "401": err("Missing or invalid API key", envelope),
        "403": err("The key lacks the route's scope", envelope),
        "429": err("Rate limit exceeded", envelope, headers=RETRY_AFTER),
    }


def op(
    summary: str,
    *,
    tag: str,
    scopes: list[str],
    responses: dict[str, Any],
    description: str = "",
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    envelope: str = "simple",
    idempotent: bool = False,
    secured: bool = True,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "operationId": summary.lower().replace(" ", "_").replace("/", "_")[:60],
        "responses": {**(common_errors(envelope) if secured else {}), **responses},
    }
    if description:
        operation["description"] = description
    if secured:
        operation["security"] = [{"ApiKey": []}, {"ApiKeyAlt": []}, {"Bearer": []}]
        operation["x-scopes"] = scopes
    else:
        operation["security"] = []
    parameters = list(params or [])
    if idempotent:
        parameters.append(IDEMPOTENCY)
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    return operation


def path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": STR}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def json_body(schema: dict[str, Any], example: Any, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema, "example": example}}}


# --- seed 000 -----------------------------------------------------------------------------------

IMAGE_000 = obj(
    {"id": STR, "imageUrl": STR, "width": INT, "height": INT}, ["id", "imageUrl", "width", "height"]
)
GENERATION_000 = obj(
    {
        "images": {"type": "array", "items": IMAGE_000},
        "imageUrl": {"type": ["string", "null"]},
        "width": {"type": ["integer", "null"]},
        "height": {"type": ["integer", "null"]},
        "generationId": STR,
        "persistence": {"enum": ["ok", "failed"]},
        "costCents": {"type": ["integer", "null"]},
        "model": STR,
    },
    ["images", "imageUrl", "width", "height", "generationId", "persistence", "costCents"],
)
GENERATE_000_EXAMPLE = {
    "images": [
        {
            "id": "res_CysigBn7FrG1",
            "imageUrl": "https://your-shop-id.storage.snowcone.app/ai-generations/…-bddxf2.avif",
            "width": 1024,
            "height": 1024,
        }
    ],
    "imageUrl": "https://your-shop-id.storage.snowcone.app/ai-generations/…-bddxf2.avif",
    "width": 1024,
    "height": 1024,
    "generationId": "gen_hLMMv3v7z9vn",
    "persistence": "ok",
    "costCents": 1,
}


def seed_000() -> dict[str, Any]:
    tag = "Seed 000: AI generations"
    exhausted = err(
        "Rate limit exceeded, or no balance: “API credits exhausted and no wallet balance”",
        example={
            "error": "API credits exhausted and no wallet balance",
            "code": "ResourceExhausted",
        },
        headers=RETRY_AFTER,
    )
    image_url_body = obj({"imageUrl": {"type": "string", "format": "uri"}}, ["imageUrl"])
    return {
        "/ai-generations/generate": {
            "post": op(
                "Generate art",
                tag=tag,
                scopes=["ai:generate"],
                idempotent=True,
                description="Text to image; images land on the shop's storage origin. "
                "referenceImageUrls gives one reference-guided image. A model this server cannot "
                "serve is a 400 listing the models it can; omitting it uses the shop default.",
                body=json_body(
                    obj(
                        {
                            "prompt": {"type": "string", "minLength": 1},
                            "numberResults": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 4,
                                "default": 4,
                            },
                            "width": {
                                "type": "integer",
                                "minimum": 64,
                                "maximum": 4096,
                                "default": 1024,
                            },
                            "height": {
                                "type": "integer",
                                "minimum": 64,
                                "maximum": 4096,
                                "default": 1024,
                            },
                            "referenceImageUrls": {
                                "type": "array",
                                "items": {"type": "string", "format": "uri"},
                                "maxItems": 5,
                            },
                            "model": STR,
                        },
                        ["prompt"],
                    ),
                    {
                        "prompt": "a minimalist line drawing of a mountain, black on white",
                        "numberResults": 4,
                    },
                ),
                responses={
                    "200": ok("The generated images", GENERATION_000, GENERATE_000_EXAMPLE),
                    "429": exhausted,
                    "502": err("The engine failed (refunded)"),
                    "504": err("Still running after the sync timeout"),
                },
            )
        },
        "/ai-generations/{generation_id}": {
            "get": op(
                "Get a generation",
                tag=tag,
                scopes=["ai:generate"],
                params=[path_param("generation_id", "generationId from the generate response")],
                responses={
                    "200": ok("The batch", GENERATION_000, GENERATE_000_EXAMPLE),
                    "404": err("Not this shop's generation"),
                },
            )
        },
        "/ai-generations/remove-background": {
            "post": op(
                "Remove background",
                tag=tag,
                scopes=["ai:bg-remove"],
                idempotent=True,
                description="imageUrl on the shop's storage origin, or any public URL (fetched).",
                body=json_body(
                    image_url_body,
                    {"imageUrl": "https://your-shop-id.storage.snowcone.app/ai-generations/…avif"},
                ),
                responses={
                    "200": ok(
                        "A transparent PNG",
                        obj(
                            {
                                "id": STR,
                                "imageUrl": STR,
                                "width": INT,
                                "height": INT,
                                "costCents": INT,
                            }
                        ),
                        {"imageUrl": "…-nobg.png", "width": 1024, "height": 1024},
                    ),
                    "429": exhausted,
                    "501": err("Image operations are not installed on this server"),
                    "502": err("The operation failed (refunded)"),
                    "504": err("Still running after the sync timeout"),
                },
            )
        },
        "/ai-generations/generate-video": {
            "post": op(
                "Image to video",
                tag=tag,
                scopes=["ai:video"],
                idempotent=True,
                body=json_body(
                    obj(
                        {
                            "imageUrl": {"type": "string", "format": "uri"},
                            "prompt": STR,
                            "resolution": {"enum": [720, 1080], "default": 720},
                        },
                        ["imageUrl"],
                    ),
                    {
                        "imageUrl": "https://…/art.png",
                        "prompt": "slow zoom, gentle drift",
                        "resolution": 720,
                    },
                ),
                responses={
                    "200": ok(
                        "A 6-second MP4",
                        obj(
                            {
                                "id": STR,
                                "videoUrl": STR,
                                "duration": {"type": "number"},
                                "width": INT,
                                "height": INT,
                                "costCents": INT,
                            }
                        ),
                        {"videoUrl": "…mp4", "duration": 6, "width": 1280, "height": 720},
                    ),
                    "429": exhausted,
                    "501": err("Image operations are not installed on this server"),
                    "502": err("The operation failed (refunded)"),
                    "504": err("Still running after the sync timeout"),
                },
            )
        },
    }


# --- seed 002 ---------------------------------------------------------------------------------

V0_IMAGE = obj(
    {
        "id": STR,
        "url": STR,
        "storageKey": STR,
        "width": INT,
        "height": INT,
        "b64_json": STR,
        "mimeType": STR,
    },
    ["id", "storageKey"],
)
V0_JOB = obj(
    {
        "id": STR,
        "status": {"enum": ["queued", "active", "completed", "failed"]},
        "created": INT,
        "model": STR,
        "data": {"type": "array", "items": V0_IMAGE},
        "usage": obj({"credits": INT}),
        "error": STR,
    },
    ["id"],
)
V0_LIBRARY_ITEM = obj(
    {
        "id": STR,
        "url": STR,
        "thumbnailUrl": STR,
        "width": INT,
        "height": INT,
        "presetId": {"type": ["string", "null"]},
        "modelVersion": {"type": ["string", "null"]},
        "userPrompt": STR,
        "isPublic": BOOL,
        "createdAt": {"type": "string", "format": "date-time"},
    }
)


def data_of(schema: dict[str, Any]) -> dict[str, Any]:
    return obj({"data": schema}, ["data"])


def seed_002() -> dict[str, Any]:
    tag = "Seed 002: /v0 images"
    body_schema = obj(
        {
            "prompt": STR,
            "negativePrompt": STR,
            "presetId": STR,
            "variables": {"type": "object"},
            "aspectRatio": {"enum": list(ASPECT_RATIOS)},
            "resolution": {"enum": ["low", "standard", "high", "4k"], "default": "standard"},
            "sampleCount": {"type": "integer", "minimum": 1, "maximum": 4, "default": 1},
            "modelVersion": STR,
            "isPublic": BOOL,
            "refImageBase64": {
                "type": "array",
                "maxItems": 5,
                "items": obj(
                    {"mimeType": STR, "data": {"type": "string", "contentEncoding": "base64"}},
                    ["data"],
                ),
            },
            "refImageUrls": {
                "type": "array",
                "maxItems": 5,
                "items": {"type": "string", "format": "uri"},
            },
        }
    )
    example = {
        "prompt": "a serene mountain lake at sunrise",
        "negativePrompt": "watermark, text",
        "variables": {},
        "aspectRatio": "16:9",
        "resolution": "standard",
        "sampleCount": 1,
        "modelVersion": "gemini-3-pro-image-preview",
        "isPublic": False,
    }
    multipart = obj(
        {
            "prompt": STR,
            "presetId": STR,
            "variables": {"type": "string", "description": "JSON-stringified object"},
        },
        additionalProperties={"type": "string", "format": "binary"},
        description="File requirements as <requirementKey> or <requirementKey>_0, _1, ...",
    )
    image_id = path_param("image_id", "Image id from the library")
    read = ["library:read", "ai:generate"]
    return {
        "/v0/images/generations": {
            "post": op(
                "Create image generation",
                tag=tag,
                scopes=["ai:generate"],
                idempotent=True,
                description="Sync by default (waits up to 180 s, then 504 with the job id); "
                "?async=true returns the queued job at once. Total cost = cost(resolution) × "
                "sampleCount (low 1, standard 1, high 2, 4k 4), charged before work and refunded "
                "on failure.",
                params=[
                    query(
                        "response_format",
                        {"enum": ["url", "b64_json", "both"], "default": "url"},
                        "URL only, base64 only, or both",
                    ),
                    query(
                        "include_base64",
                        {"enum": ["true", "1", "false", "0"]},
                        "Alias for response_format=both",
                    ),
                    query(
                        "async",
                        {"enum": ["true", "1", "false", "0"]},
                        "Don't block: return the job id immediately",
                    ),
                ],
                body={
                    "required": False,
                    "content": {
                        JSON: {"schema": body_schema, "example": example},
                        "multipart/form-data": {"schema": multipart},
                    },
                },
                responses={
                    "200": ok(
                        "Completed (sync) or queued (async)",
                        data_of(V0_JOB),
                        {
                            "data": {
                                "id": "<jobId>",
                                "created": 1714161234,
                                "model": "gemini-3-pro-image-preview",
                                "data": [
                                    {
                                        "id": "<imageId>",
                                        "url": "https://r2.../image.webp",
                                        "storageKey": "generated/team-xxx/abc.webp",
                                    }
                                ],
                                "usage": {"credits": 1},
                            }
                        },
                    ),
                    "402": err("Insufficient credits"),
                    "404": err("Unknown presetId"),
                    "413": err("A file is too large"),
                    "502": err("The engine failed (refunded)"),
                    "504": err(
                        "Sync timeout; the job is still running",
                        example={
                            "error": "Generation timed out after 180s",
                            "jobId": "...",
                            "hint": "GET /v0/images/generations/<jobId> to check status",
                        },
                    ),
                },
            )
        },
        "/v0/images/generations/{job_id}": {
            "get": op(
                "Poll a generation job",
                tag=tag,
                scopes=read,
                params=[
                    path_param("job_id", "The job id"),
                    query(
                        "response_format", {"enum": ["url", "b64_json", "both"]}, "As for the POST"
                    ),
                    query(
                        "include_base64", {"enum": ["true", "1", "false", "0"]}, "Alias for both"
                    ),
                ],
                responses={
                    "200": ok(
                        "queued, active, completed or failed",
                        data_of(V0_JOB),
                        {
                            "data": {
                                "id": "<jobId>",
                                "status": "completed",
                                "created": 1714161234,
                                "model": "gemini-3-pro-image-preview",
                                "data": [
                                    {"id": "...", "url": "...", "width": 1024, "height": 1024}
                                ],
                                "usage": {"credits": 1},
                            }
                        },
                    ),
                    "404": err("Not this team's job"),
                },
            )
        },
        "/v0/images/library": {
            "get": op(
                "List the team library",
                tag=tag,
                scopes=read,
                params=[
                    query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number"),
                    query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                        "Items per page (1–100)",
                    ),
                    query("presetId", STR, "Only images generated from this preset"),
                    query("search", STR, "Substring search across userPrompt and preset name"),
                ],
                responses={
                    "200": ok(
                        "One page",
                        data_of(
                            obj(
                                {
                                    "images": {"type": "array", "items": V0_LIBRARY_ITEM},
                                    "total": INT,
                                    "page": INT,
                                    "limit": INT,
                                }
                            )
                        ),
                    )
                },
            )
        },
        "/v0/images/library/{image_id}": {
            "get": op(
                "Get a library image",
                tag=tag,
                scopes=read,
                params=[image_id],
                responses={
                    "200": ok(
                        "Metadata and public URL",
                        data_of(
                            obj(
                                {
                                    **V0_LIBRARY_ITEM["properties"],
                                    "prompt": STR,
                                    "variables": {"type": "object"},
                                    "sourceType": {"type": ["string", "null"]},
                                }
                            )
                        ),
                    ),
                    "404": err("Not owned by the key's team"),
                },
            )
        },
        "/v0/images/library/{image_id}/download": {
            "get": op(
                "Download image bytes",
                tag=tag,
                scopes=read,
                params=[image_id],
                responses={
                    "200": {
                        "description": "The raw bytes, with Content-Type, Content-Disposition and Content-Length",
                        "headers": RATE_HEADERS,
                        "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "404": err("Not owned by the key's team"),
                },
            )
        },
        "/v0/usage": {
            "get": op(
                "Credits and usage",
                tag=tag,
                scopes=read,
                responses={
                    "200": ok(
                        "Remaining balance (1 credit = 1 US cent)",
                        data_of(
                            obj(
                                {
                                    "credits": obj(
                                        {
                                            "remaining": INT,
                                            "planBudget": INT,
                                            "planUsed": INT,
                                            "planRemaining": INT,
                                            "wallet": INT,
                                        }
                                    ),
                                    "period": STR,
                                    "unit": STR,
                                }
                            )
                        ),
                    )
                },
            )
        },
    }


# --- seed 003 ---------------------------------------------------------------------------------


def seed_003() -> dict[str, Any]:
    tag = "Seed 003: /ai and /v1/posts"
    env = "enveloped"
    meta_example = {"request_id": "a1b2c3d4", "timestamp": "2026-04-10T12:00:00.000Z"}
    media = obj(
        {
            "media_id": UUID,
            "media_ids": {"type": "array", "items": UUID},
            "type": {"const": "image"},
            "url": STR,
            "width": INT,
            "height": INT,
            "aspect_ratio": STR,
            "ai": obj({"model": STR, "prompt": STR}),
            "credits_used": INT,
            "credits_remaining": INT,
            "created_at": {"type": "string", "format": "date-time"},
            "next_step": STR,
        }
    )
    post = obj(
        {
            "id": UUID,
            "text": STR,
            "media_ids": {"type": "array", "items": UUID},
            "media": {
                "type": "array",
                "items": obj({"id": UUID, "type": STR, "url": STR, "width": INT, "height": INT}),
            },
            "status": {"const": "stored"},
            "published": BOOL,
            "created_at": {"type": "string", "format": "date-time"},
        }
    )

    def envelope(schema: dict[str, Any]) -> dict[str, Any]:
        return obj(
            {
                "data": schema,
                "error": {"type": "null"},
                "meta": {"$ref": "#/components/schemas/Meta"},
            },
            ["data", "error", "meta"],
        )

    media_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    return {
        "/ai/generate-image": {
            "post": op(
                "Generate image",
                tag=tag,
                scopes=["ai"],
                envelope=env,
                idempotent=True,
                description="Generate an image into the media library; copy media_ids into POST /v1/posts.",
                body=json_body(
                    obj(
                        {
                            "prompt": {"type": "string", "minLength": 1, "maxLength": 2000},
                            "aspect_ratio": {"enum": list(ASPECT_RATIOS_003), "default": "1:1"},
                            "model": STR,
                        },
                        ["prompt"],
                    ),
                    {
                        "prompt": "A professional photo of a modern office workspace with natural lighting",
                        "aspect_ratio": "16:9",
                        "model": "nano-banana-pro",
                    },
                ),
                responses={
                    "201": ok(
                        "Image generated successfully",
                        envelope(media),
                        {
                            "data": {
                                "media_id": media_id,
                                "media_ids": [media_id],
                                "type": "image",
                                "width": 1920,
                                "height": 1080,
                                "aspect_ratio": "16:9",
                                "ai": {
                                    "model": "nano-banana-pro",
                                    "prompt": "A professional photo of a modern office workspace with natural lighting",
                                },
                                "credits_used": 15,
                                "credits_remaining": 485,
                                "created_at": "2026-04-10T12:00:00.000Z",
                                "next_step": f'Image generated. Attach it to a post by passing "media_ids": ["{media_id}"] to POST /v1/posts.',
                            },
                            "error": None,
                            "meta": meta_example,
                        },
                    ),
                    "400": err(
                        "Invalid prompt, aspect ratio, or model",
                        env,
                        {
                            "data": None,
                            "error": {
                                "message": "Invalid aspect ratio. Must be one of: 1:1, 16:9, 9:16, 4:3, 3:4, 4:5, 5:4",
                                "code": "validation_error",
                            },
                            "meta": meta_example,
                        },
                    ),
                    "402": err(
                        "Insufficient AI credits",
                        env,
                        {
                            "data": None,
                            "error": {
                                "message": "Not enough credits. This model costs 15 credits but you have 3 available.",
                                "code": "insufficient_credits",
                                "details": {
                                    "credits_required": 15,
                                    "credits_available": 3,
                                    "model": "nano-banana-pro",
                                },
                            },
                            "meta": meta_example,
                        },
                    ),
                    "502": err("The engine failed (refunded)", env),
                    "504": err("Still running after the sync timeout", env),
                },
            )
        },
        "/v1/posts": {
            "get": op(
                "List posts",
                tag=tag,
                scopes=["ai"],
                envelope=env,
                responses={
                    "200": ok(
                        "The latest 50 posts",
                        envelope(obj({"posts": {"type": "array", "items": post}})),
                    )
                },
            ),
            "post": op(
                "Create post",
                tag=tag,
                scopes=["ai"],
                envelope=env,
                idempotent=True,
                description="Stores a post with media from the library (ids must belong to the shop). "
                "Publishing to social networks is outside this server.",
                body=json_body(
                    obj(
                        {
                            "text": {"type": "string", "maxLength": 10000},
                            "media_ids": {"type": "array", "maxItems": 10, "items": UUID},
                        }
                    ),
                    {"text": "Our new office", "media_ids": [media_id]},
                ),
                responses={"201": ok("Stored", envelope(post))},
            ),
        },
    }


# --- platform ------------------------------------------------------------------------------------


def platform() -> dict[str, Any]:
    tag = "Platform: sandbox shops and uploads"
    return {
        "/shops/sandbox": {
            "post": op(
                "Mint a sandbox shop",
                tag=tag,
                scopes=[],
                secured=False,
                description=f"No key needed; limited per client address. The api_key carries {', '.join(SANDBOX_SCOPES)}; "
                "a signed-in user who opens claim_url becomes the owner and that key is revoked.",
                responses={
                    "201": ok(
                        "The shop, its key (shown once), its URL-signing secret and claim link",
                        obj(
                            {
                                "shop": STR,
                                "shop_name": STR,
                                "api_key": STR,
                                "shop_secret": STR,
                                "scopes": {"type": "array", "items": STR},
                                "claim_url": STR,
                                "storage_origin": STR,
                                "credits_cents": INT,
                                "sandbox": BOOL,
                            },
                            ["shop", "api_key", "shop_secret", "scopes", "claim_url"],
                        ),
                    ),
                    "429": err("Too many sandbox shops from this address", headers=RETRY_AFTER),
                },
            )
        },
        "/uploads": {
            "post": op(
                "Upload an image",
                tag=tag,
                scopes=["uploads:write"],
                idempotent=True,
                description="A multipart file, or JSON {url} fetched by the server (public http(s) only).",
                body={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": obj(
                                {"file": {"type": "string", "format": "binary"}}, ["file"]
                            )
                        },
                        JSON: {
                            "schema": obj({"url": {"type": "string", "format": "uri"}}, ["url"]),
                            "example": {"url": "https://example.com/logo.png"},
                        },
                    },
                },
                responses={
                    "201": ok(
                        "Stored on the shop's storage origin",
                        obj(
                            {
                                "id": STR,
                                "imageUrl": STR,
                                "width": INT,
                                "height": INT,
                                "contentType": STR,
                            },
                            ["id", "imageUrl", "width", "height"],
                        ),
                    ),
                    "413": err("The file is too large"),
                },
            )
        },
    }


@cache
def document() -> dict[str, Any]:
    paths = {**platform(), **seed_000(), **seed_002(), **seed_003()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Studio HTTP API",
            "version": "1",
            "description": "Route families of the seed documents 000 (/ai-generations), 002 (/v0) and "
            "003 (/ai, /v1/posts), plus sandbox shops and uploads. Every route needs a "
            "shop-scoped API key (x-api-key, api-key or Authorization: Bearer) except "
            "POST /shops/sandbox. Scopes: " + "; ".join(f"{k}: {v}" for k, v in SCOPES.items()),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "ApiKeyAlt": {"type": "apiKey", "in": "header", "name": "api-key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "Meta": obj(
                    {"request_id": STR, "timestamp": {"type": "string", "format": "date-time"}},
                    ["request_id", "timestamp"],
                ),
            },
        },
    }


def schema_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse(document(), json_dumps_params={"ensure_ascii": False})


def docs_view(request: HttpRequest) -> HttpResponse:
    doc = document()
    sections: dict[str, list[dict[str, Any]]] = {}
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {})
            examples = {
                ctype: json.dumps(c["example"], indent=2, ensure_ascii=False)
                for ctype, c in body.items()
                if "example" in c
            }
            responses = []
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get(JSON, {})
                responses.append(
                    {
                        "status": status,
                        "description": response["description"],
                        "example": json.dumps(content["example"], indent=2, ensure_ascii=False)
                        if "example" in content
                        else "",
                    }
                )
            sections.setdefault(operation["tags"][0], []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "anchor": f"{method}-{path}".replace("/", "-")
                    .replace("{", "")
                    .replace("}", ""),
                    "summary": operation["summary"],
                    "description": operation.get("description", ""),
                    "scopes": operation.get("x-scopes", []),
                    "secured": bool(operation.get("security")),
                    "parameters": operation.get("parameters", []),
                    "body_types": list(body),
                    "body_schema": json.dumps(
                        next(iter(body.values()))["schema"], indent=2, ensure_ascii=False
                    )
                    if body
                    else "",
                    "examples": examples,
                    "responses": responses,
                }
            )
    return render(
        request,
        "studio/api_docs.html",
        {"info": doc["info"], "sections": sections, "scopes": SCOPES},
    )
