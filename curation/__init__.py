"""Curation: raw dumps to clean, per-user, time-ordered articles split by user (the style filter is in style/)."""
