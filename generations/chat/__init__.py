"""The design chat: a conversation whose turns are planned into calls of the studio's own tools
(generate art, remove a background, search the product catalog, build a mockup, make a listing)
and run as one `chat` job. See docs/chat.md."""
