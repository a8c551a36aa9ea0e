"""Product photos in a described scene (seed 004): the offline scene compositor, scene presets,
the `scene` job kind and the studio page."""
