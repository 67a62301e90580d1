"""Meaning coverage: how much of an article's content a rewrite still says, beside the fact counts.

    coverage  share of the article's sentences that have a close sentence in the rewrite
    support   share of the rewrite's sentences that have a close sentence in the article
              (what a rewrite adds that the article does not say lowers it)

"Close" is a cosine of the packaged all-MiniLM-L6-v2 sentence embeddings above a threshold chosen
on train-split users without labels: the `quantile` (99%) of best-match cosines between an
article's sentences and the sentences of another train user's article. A covered sentence is so
closer to its match than 99% of chance matches between unrelated posts (0.41 on the default
corpus, where a paraphrase scores 0.7-0.9 and a same-topic sentence that says something else 0.3).
"""

from __future__ import annotations

import re

import numpy as np

from llm.answers import SENTENCE

MODEL = "packaged:all-MiniLM-L6-v2"
_PARAGRAPH = re.compile(r"\n\s*\n")


def sentences(text: str) -> list[str]:
    """Sentences of three words or more, one space between words; a paragraph break ends one too
    (mail is hard-wrapped, so a single line break does not)."""
    out = []
    for paragraph in _PARAGRAPH.split(text):
        out += [s for s in SENTENCE.split(" ".join(paragraph.split())) if len(s.split()) >= 3]
    return out


class MeaningCoverage:
    def __init__(self, precision: str = "bf16"):
        from style.embeddings import load_model, resolve_model

        self.model = load_model(resolve_model(MODEL), precision)
        self._vectors: dict[str, np.ndarray] = {}
        self.threshold: float | None = None

    def _embed(self, texts: list[str]) -> None:
        """Each new sentence of these texts embedded once (a rewrite shares many with its article)."""
        from style.embeddings import encode

        new = list(dict.fromkeys(s for t in texts for s in sentences(t) if s not in self._vectors))
        if new:
            self._vectors |= dict(zip(new, encode(self.model, new), strict=True))

    def _matrix(self, text: str) -> np.ndarray:
        found = [self._vectors[s] for s in sentences(text)]
        return np.stack(found) if found else np.zeros((0, 1), np.float32)

    def _best(self, text: str, other: str) -> np.ndarray:
        """For each sentence of `text`, its best cosine to a sentence of `other`."""
        a, b = self._matrix(text), self._matrix(other)
        if not len(a):
            return np.zeros(0)
        return (a @ b.T).max(axis=1) if len(b) else np.full(len(a), -1.0)

    def choose_threshold(
        self, texts: list[str], users: list[str], seed: int, quantile: float = 0.99, n: int = 300
    ) -> float | None:
        """The threshold from up to `n` pairs of train articles by different users (see the docstring);
        None when there are no two such articles with sentences (coverage is then not measured)."""
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(texts))[: 2 * n]
        pairs = []
        for i in order:
            j = rng.integers(len(texts))
            if users[j] != users[i]:
                pairs.append((texts[i], texts[j]))
            if len(pairs) >= n:
                break
        self._embed([t for p in pairs for t in p])
        chance = np.concatenate([self._best(a, b) for a, b in pairs] or [np.zeros(0)])
        self.threshold = float(np.quantile(chance, quantile)) if len(chance) else None
        return self.threshold

    def scores(self, article: str, rewrite: str) -> tuple[float | None, float | None]:
        """(coverage, support) of one rewrite; None when a side has no sentence of three words."""
        self._embed([article, rewrite])
        cov, sup = self._best(article, rewrite), self._best(rewrite, article)
        return (
            float((cov >= self.threshold).mean()) if len(cov) else None,
            float((sup >= self.threshold).mean()) if len(sup) else None,
        )

    def many(self, pairs: list[tuple[str, str]]) -> list[tuple[float | None, float | None]]:
        """`scores` of (article, rewrite) pairs, every sentence embedded in one pass."""
        if self.threshold is None:
            raise ValueError("choose_threshold first")
        self._embed([t for p in pairs for t in p])
        return [self.scores(a, r) for a, r in pairs]
