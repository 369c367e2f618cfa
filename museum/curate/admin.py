"""Curation views (being written)."""
