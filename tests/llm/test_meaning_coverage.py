"""Meaning coverage with the packaged MiniLM: a rewrite that says less covers less, one that adds
unrelated content is less supported, and the threshold comes from unrelated train articles."""

import pytest

from llm.meaning_coverage import MeaningCoverage, sentences

ARTICLE = (
    "My laptop battery dies after twenty minutes. I bought it in March from a shop in Dublin. "
    "The shop says the warranty does not cover batteries. Has anyone had luck replacing the cell themselves?"
)
FULL = (
    "The author's laptop battery runs out after twenty minutes. It was bought in March at a Dublin shop. "
    "The shop states that batteries are not covered by the warranty. The author asks whether others have "
    "replaced the battery cell on their own."
)
HALF = "The author's laptop battery runs out after twenty minutes. It was bought in March at a Dublin shop."
OTHERS = [  # other users' posts on a computer forum: what a chance match looks like
    "The printer stopped working after the driver update. I reinstalled it twice with no luck.",
    "Does anyone know a good mail client for Linux? Mutt is fine but I want something with a GUI.",
    "My desktop fan is very loud since I moved house. Maybe dust got into the case.",
    "The new kernel would not boot on my old machine. Going back to the previous one fixed it.",
    "I lost all my bookmarks when the browser crashed. Is there a way to restore them from a backup?",
    "Our office network drops every afternoon. The router logs show nothing unusual.",
    "The spam filter marked my bank's mail as junk. I had to whitelist the sender by hand.",
    "Which hard disk brand do you trust? My last two drives failed within a year.",
]


@pytest.fixture(scope="module")
def meaning():
    m = MeaningCoverage(precision="fp32")
    m.choose_threshold(OTHERS * 3, [f"u{i % 8}" for i in range(24)], seed=13)
    return m


def test_sentences_are_three_words_or_more_across_wrapped_lines_and_end_at_paragraphs():
    text = "Hi.\nThe disk is full. It is\n  very full!\n\nA new paragraph starts\n\nhere it goes"
    assert sentences(text) == ["The disk is full.", "It is very full!", "A new paragraph starts", "here it goes"]


def test_a_rewrite_that_says_less_covers_less_and_one_that_adds_is_less_supported(meaning):
    assert 0 < meaning.threshold < 1
    full_cov, full_sup = meaning.scores(ARTICLE, FULL)
    half_cov, half_sup = meaning.scores(ARTICLE, HALF)
    padded_cov, padded_sup = meaning.scores(ARTICLE, FULL + " " + OTHERS[0])
    assert half_cov < full_cov == padded_cov == 1.0
    assert padded_sup < full_sup == half_sup == 1.0


def test_no_threshold_without_two_train_users():
    m = MeaningCoverage(precision="fp32")
    assert m.choose_threshold(OTHERS, ["u"] * len(OTHERS), seed=1) is None
