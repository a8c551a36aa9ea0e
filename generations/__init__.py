"""Library, presets, jobs, engines and image operations."""
