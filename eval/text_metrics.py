"""Reference-based and diversity metrics that are right for Chinese as well as English.

rouge-score's default tokenizer keeps only [a-z0-9], so a Chinese article scores 0 against
anything. Here a text is tokenised once, with the word definition curation uses (a Han, Hiragana
or Katakana character is a token; elsewhere a run of letters or digits, inner apostrophes kept),
lower-cased, and the same tokens feed ROUGE-1/2/L (rouge-score with this tokenizer), BLEU-4
(sacrebleu on the pre-tokenised text), distinct-n and self-BLEU.
"""

from __future__ import annotations

import functools
import itertools

import regex

from curation.words import WORD_PATTERN

_WORD = regex.compile(WORD_PATTERN, regex.V1)


def tokens(text: str) -> list[str]:
    return [t.lower() for t in _WORD.findall(text or "")]


class Tokenizer:
    """The interface rouge-score asks of a tokenizer."""

    def tokenize(self, text: str) -> list[str]:
        return tokens(text)


@functools.cache
def _rouge():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=Tokenizer())


def rouge(output: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F1 of one output against one reference."""
    scores = _rouge().score(reference, output)
    return {name: scores[name].fmeasure for name in ("rouge1", "rouge2", "rougeL")}


def bleu(outputs: list[str], references: list[str]) -> float:
    """Corpus BLEU-4 (0-100) over paired outputs and references, on our tokens."""
    from sacrebleu.metrics import BLEU

    hyps = [" ".join(tokens(o)) for o in outputs]
    refs = [" ".join(tokens(r)) for r in references]
    return BLEU(tokenize="none").corpus_score(hyps, [refs]).score


def sentence_bleu(output: str, reference: str) -> float:
    """Smoothed BLEU-4 (0-100) of one output: a per-example score for bootstrap intervals."""
    return _sentence_bleu().sentence_score(" ".join(tokens(output)), [" ".join(tokens(reference))]).score


@functools.cache
def _sentence_bleu():
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize="none", effective_order=True)


def distinct_n(outputs: list[str], n: int) -> float:
    """Distinct n-grams / all n-grams over the outputs (0 when there are none)."""
    grams = [tuple(t[i : i + n]) for t in map(tokens, outputs) for i in range(len(t) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def self_bleu(outputs: list[str]) -> float:
    """Mean BLEU-4 of each output against all the others (lower = more diverse)."""
    if len(outputs) < 2:
        return 0.0
    from sacrebleu.metrics import BLEU

    scorer = BLEU(tokenize="none", effective_order=True)
    joined = [" ".join(tokens(o)) for o in outputs]
    scores = [scorer.sentence_score(h, joined[:i] + joined[i + 1 :]).score for i, h in enumerate(joined)]
    return sum(scores) / len(scores)


def mean_pairwise_distance(vectors) -> float:
    """Mean cosine distance over all pairs of output embeddings."""
    import numpy as np

    vectors = np.asarray(vectors, dtype=float)
    if len(vectors) < 2:
        return 0.0
    unit = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    pairs = list(itertools.combinations(range(len(unit)), 2))
    return float(np.mean([1 - unit[i] @ unit[j] for i, j in pairs]))
