"""The DVC stages and the `sag` CLI: each stage reads params, calls the library, writes outputs."""
