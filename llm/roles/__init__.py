"""The LLM roles: one prompt template and one strict parser each, with a deterministic baseline."""
