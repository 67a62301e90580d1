"""Metric functions against values worked out by hand, in English and in Chinese."""

import pytest

from eval.text_metrics import bleu, distinct_n, mean_pairwise_distance, rouge, self_bleu, sentence_bleu, tokens


def test_tokens_split_cjk_by_character_and_other_scripts_by_word():
    assert tokens("我爱北京 Don't stop, 2002!") == ["我", "爱", "北", "京", "don't", "stop", "2002"]


def test_rouge_english_by_hand():
    # 3 of the 6 reference unigrams: P = 3/3, R = 3/6, F1 = 2/3; bigrams "the cat", "cat sat": P = 1, R = 2/5
    scores = rouge("the cat sat", "the cat sat on the mat")
    assert scores["rouge1"] == pytest.approx(2 / 3)
    assert scores["rouge2"] == pytest.approx(2 * 1 * 0.4 / 1.4)
    assert scores["rougeL"] == pytest.approx(2 / 3)


def test_rouge_chinese_by_hand_where_the_stock_tokenizer_scores_zero():
    from rouge_score import rouge_scorer

    assert rouge_scorer.RougeScorer(["rouge1"]).score("我爱上海", "我爱北京")["rouge1"].fmeasure == 0.0
    scores = rouge("我爱北京", "我爱上海")  # 我 爱 shared: 2/4; bigram 我爱 of 3: 1/3
    assert scores["rouge1"] == pytest.approx(0.5) and scores["rouge2"] == pytest.approx(1 / 3)


def test_bleu_english_and_chinese():
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100)
    assert bleu(["我爱北京天安门广场"], ["我爱北京天安门广场"]) == pytest.approx(100)
    assert bleu(["完全不同的句子"], ["我爱北京天安门"]) == pytest.approx(0)
    # 4 of 5 unigrams, 3/4 bigrams, 2/3 trigrams, 1/2 four-grams; same length: BLEU = (4/5*3/4*2/3*1/2)^(1/4)
    expected = 100 * (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
    assert bleu(["a b c d x"], ["a b c d e"]) == pytest.approx(expected, rel=1e-6)
    assert 0 < sentence_bleu("我爱北京天安门", "我爱北京天安门广场") < 100


def test_diversity_by_hand():
    assert distinct_n(["a b a b"], 1) == 0.5 and distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["我我我"], 1) == pytest.approx(1 / 3)
    assert self_bleu(["the same words here", "the same words here"]) == pytest.approx(100)
    assert self_bleu(["one two three four", "five six seven eight"]) == pytest.approx(0)
    assert mean_pairwise_distance([[1, 0], [0, 1], [1, 0]]) == pytest.approx(2 / 3)
