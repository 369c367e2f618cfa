"""Search: text analysis for Chinese and Latin scripts, the Whoosh schema and the index; never imports Flask."""
