"""Product mockups: templates with print areas, the renderer, mockup URLs, listings."""
