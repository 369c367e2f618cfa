"""IIIF Presentation API 3.0 views (being written)."""
