"""Project-wide plumbing every package may use: user errors, cache paths, packaged models, and
loading and sampling a causal LM (one loader, one batched generator)."""
