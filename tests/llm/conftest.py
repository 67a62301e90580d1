"""What the LLM-layer tests share: a few posts, and an API key in a variable for the loopback server."""

import pytest

ITEMS = [{"id": f"p{i}", "title": "t", "text": f"Post number {i}. It costs {i} euro."} for i in range(5)]


@pytest.fixture
def env_key(monkeypatch):
    monkeypatch.setenv("SAG_TEST_KEY", "sk-test-not-a-secret")
    return "SAG_TEST_KEY"
