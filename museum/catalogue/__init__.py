"""The catalogue: models, queries, use cases and the revision log; never imports Flask."""
