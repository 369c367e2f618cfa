"""Image handling: ingest of originals and derivatives; never imports Flask."""
