"""A scorer with a bug of ours: it crashes on any input."""

raise SystemExit(3)
