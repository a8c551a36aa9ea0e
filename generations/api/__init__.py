"""The HTTP API: one module per seed route family (ai_generations = 000, v0 = 002, ai = 003),
the platform routes (platform), what they share (common), the schema (openapi) and owner pages."""
