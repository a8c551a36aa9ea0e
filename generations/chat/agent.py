"""The language-model planner: the configured model (CHAT_MODEL over an OpenAI-compatible API)
chooses the tools, step by step, with the same tools and validation as the offline planner, at
most CHAT_MAX_STEPS model calls per turn. When the provider fails the offline planner takes
over the turn, keeping what the model's tool calls already made.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.conf import settings

from generations.chat import offline
from generations.chat.llm import ChatCompletions, LlmError
from generations.chat.models import ChatTurn
from generations.chat.tools import TOOLS
from generations.chat.turn import TurnRun

log = logging.getLogger(__name__)

SYSTEM = """You are the design assistant of a print-on-demand studio. You turn a request into \
designs on products by calling tools, then answer in one or two short sentences.
- generate_image makes design art; write the prompt about the art only (subject, style, \
colours, any text in double quotes), never the product it goes on.
- For stickers, badges and logos going on a product, call remove_background on the art first.
- Use search_products to find the product the user names (or, with an imageId and no words, \
the one that suits the design), then build_mockup with that product's id.
- Follow-ups build on earlier results: reuse the current design's imageId for "now on a \
hoodie"; generate again only when the design itself must change ("make it blue", "three \
versions").
- Call create_listing only when the user asks to sell or for a buy link.
- Never invent ids: use ids from tool results or from the context below."""


def run_with_fallback(run: TurnRun) -> None:
    try:
        run_model(run)
    except LlmError as exc:
        log.warning(
            "chat turn %s: the language model failed (%s); planning offline", run.turn.id, exc
        )
        run.planner_name(f"offline (the language model failed: {exc})"[:200])
        run.stage("planning without the language model")
        offline.run(run)


def context_note(state: dict[str, Any]) -> str:
    """What the conversation made so far, for the model (ids, not URLs)."""
    lines = []
    design = state.get("design") or {}
    if design.get("assetId"):
        about = design.get("prompt") or ""
        cut = " (cut out of its background)" if design.get("cutout") else ""
        lines.append(f"Current design: imageId {design['assetId']}{cut}; prompt: {about!r}.")
    if state.get("images"):
        lines.append(f"Images made last: {', '.join(state['images'])}.")
    product = state.get("product") or {}
    if product.get("slug"):
        colour = f" in {product['variant']}" if product.get("variant") else ""
        lines.append(f"Current product: {product['slug']}{colour}.")
    return "\n".join(lines) or "Nothing has been made in this conversation yet."


def messages_for(run: TurnRun) -> list[dict[str, Any]]:
    earlier = ChatTurn.objects.filter(
        conversation=run.conversation, position__lt=run.turn.position
    ).order_by("position")
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": f"{SYSTEM}\n\nContext:\n{context_note(run.previous)}"}
    ]
    for turn in earlier:
        messages.append({"role": "user", "content": turn.request})
        if turn.reply:
            messages.append({"role": "assistant", "content": turn.reply})
    messages.append({"role": "user", "content": run.request})
    return messages


def run_model(run: TurnRun) -> None:
    client = ChatCompletions()
    run.planner_name(f"model {client.model}")
    tools = [tool.schema() for tool in TOOLS.values()]
    messages = messages_for(run)
    last_check = [0.0]

    def check() -> None:
        # A cancel is noticed while the model streams (at most every half second).
        now = time.monotonic()
        if now - last_check[0] > 0.5:
            last_check[0] = now
            run.check()

    try:
        for step in range(settings.CHAT_MAX_STEPS):
            run.stage("thinking" if step == 0 else "planning the next step")
            run.step_start()
            part = run.text()
            try:
                completion = client.complete(messages, tools, on_text=part.delta, on_chunk=check)
            finally:
                part.end()
            if step == 0 and not completion.text and not completion.tool_calls:
                raise LlmError("The language model answered with nothing.")
            if not completion.tool_calls:
                run.step_finish()
                return
            messages.append(
                {
                    "role": "assistant",
                    "content": completion.text or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments},
                        }
                        for call in completion.tool_calls
                    ],
                }
            )
            for call in completion.tool_calls:
                result = run.call(call.name, call.arguments)
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.id,
                        "content": json.dumps(result.for_model()),
                    }
                )
            run.step_finish()
        run.say(f"I stopped after {settings.CHAT_MAX_STEPS} steps; what I made so far is above.")
    finally:
        client.close()
