"""Sources, crawling and the change log (being built)."""

from __future__ import annotations
