"""The LLM layer: value types, backends, the cached runner, the roles with their prompts, and the
loopback OpenAI-compatible server the tests use."""
