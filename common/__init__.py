"""Project-wide plumbing every package may use: user errors, cache paths, packaged models."""
