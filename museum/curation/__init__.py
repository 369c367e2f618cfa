"""Curation use cases: accounts, editing items, exhibitions, notices and bulk import (no Flask here)."""
