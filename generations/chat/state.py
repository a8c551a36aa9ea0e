"""What a conversation remembers between turns, as plain JSON on Conversation.state:

    design   {"assetId", "brief", "prompt", "cutout", "sourceId"}  the design follow-ups change
    images   [asset ids]                                         the last images made
    product  {"slug", "variant", "name"}                         the product follow-ups keep
    mockup   {"product", "variant", "imageId", "scale", "params"}
    listing  {"listingId", "token", "priceCents"}
    kept     asset id a designer kept (it becomes the design)

A turn records what its tools produced (`record`), and when it finishes that is laid over the
conversation's state (`merge`).
"""

from __future__ import annotations

from typing import Any


def record(
    produced: dict[str, Any], tool: str, output: dict[str, Any], memo: dict[str, Any]
) -> None:
    if tool == "generate_image":
        images = [img["id"] for img in output.get("images", [])]
        if images:
            produced["images"] = images
            produced["design"] = {
                "assetId": images[0],
                "brief": memo.get("brief") or {},
                "prompt": output.get("prompt", ""),
                "cutout": False,
            }
    elif tool == "remove_background":
        before = produced.get("design") or {}
        produced["design"] = {
            **before,
            "assetId": output["image"]["id"],
            "cutout": True,
            "sourceId": output.get("sourceImageId", ""),
        }
        produced.setdefault("cutouts", []).append(output["image"]["id"])
    elif tool == "search_products":
        produced["products"] = [p["product"] for p in output.get("products", [])]
    elif tool == "build_mockup":
        produced["product"] = {
            "slug": output["product"],
            "variant": output.get("variant", ""),
            "name": output.get("productName", ""),
        }
        produced["mockup"] = {
            k: output.get(k) for k in ("product", "variant", "imageId", "scale", "params")
        }
    elif tool == "create_listing":
        produced["listing"] = {
            k: output.get(k) for k in ("listingId", "token", "priceCents", "title")
        }


def merge(previous: dict[str, Any], produced: dict[str, Any]) -> dict[str, Any]:
    """The conversation's state after a turn: what it produced replaces what it changed."""
    state = {k: v for k, v in previous.items() if k != "kept"}
    if "design" in produced:
        design = dict(produced["design"])
        before = previous.get("design") or {}
        if not design.get("brief") and not design.get("prompt"):
            # A cut-out of the previous design keeps that design's brief.
            design["brief"], design["prompt"] = before.get("brief", {}), before.get("prompt", "")
        state["design"] = design
        if "images" in produced:
            state["images"] = produced["images"]
    for key in ("product", "mockup", "listing"):
        if key in produced:
            state[key] = produced[key]
    return state


def kept(
    previous: dict[str, Any], asset_id: str, *, brief: dict[str, Any], prompt: str
) -> dict[str, Any]:
    """The state after a designer keeps one image: it becomes the design follow-ups change."""
    state = dict(previous)
    state["design"] = {"assetId": asset_id, "brief": brief, "prompt": prompt, "cutout": False}
    state["kept"] = asset_id
    return state
