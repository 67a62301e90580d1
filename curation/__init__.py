"""Curation: raw dumps to clean, split articles, and the style filter that pairs an author's posts."""
