import numpy as np

from style.authorship import char_ngram_similarity, evaluate, evaluate_many, retrieval_hits

USERS = np.array(["a", "a", "a", "b", "b", "c", "c"])
POSITIONS = np.array([0, 1, 2, 0, 1, 0, 1])


def perfect() -> np.ndarray:
    return (USERS[:, None] == USERS[None, :]).astype(float)


def test_perfect_similarity_scores_one():
    m = evaluate(perfect(), USERS, POSITIONS, n_boot=50, seed=0)
    assert m["auc"] == 1.0 and m["retrieval_accuracy"] == 1.0
    assert m["queries"] == 4 and m["users"] == 3 and m["auc_ci95"] == [1.0, 1.0]


def test_inverted_similarity_scores_zero():
    m = evaluate(-perfect(), USERS, POSITIONS, n_boot=10, seed=0)
    assert m["auc"] == 0.0 and m["retrieval_accuracy"] == 0.0


def test_retrieval_never_uses_the_authors_later_posts():
    sim = np.zeros((7, 7))
    sim[1, 2] = sim[2, 1] = 1.0  # a's post 1 looks most like a's *later* post 2
    sim[1, 3] = 0.5  # then like b's post
    hits = retrieval_hits(sim, USERS, POSITIONS)
    assert hits[0] == 0.0  # query a/1: its later post is not allowed, b wins


def test_bootstrap_interval_brackets_the_estimate():
    rng = np.random.default_rng(1)
    users = np.repeat(np.arange(20).astype(str), 4)
    positions = np.tile(np.arange(4), 20)
    sim = (users[:, None] == users[None, :]) * 0.3 + rng.normal(size=(80, 80))
    sim = (sim + sim.T) / 2
    m = evaluate(sim, users, positions, n_boot=200, seed=0)
    low, high = m["auc_ci95"]
    assert low < m["auc"] < high and 0.5 < m["auc"] < 1


def test_char_ngrams_see_style():
    fit = ["I reckon so, mate!!", "Indeed; one must concur.", "lol ok so yeah", "Furthermore; thus."] * 3
    texts = ["ok lol yeah so", "lol yeah ok", "Indeed; one must concur.", "Indeed; furthermore; thus."]
    sim = char_ngram_similarity(fit, texts)
    assert sim[0, 1] > sim[0, 2] and sim[2, 3] > sim[1, 3]


def test_paired_difference_uses_the_same_resamples():
    rng = np.random.default_rng(2)
    users = np.repeat(np.arange(20).astype(str), 4)
    positions = np.tile(np.arange(4), 20)
    truth = (users[:, None] == users[None, :]).astype(float)
    noise = rng.normal(size=(80, 80))
    good, bad = truth + (noise + noise.T) / 2, truth * 0.2 + (noise + noise.T) / 2
    m = evaluate_many({"good": good, "bad": bad}, users, positions, n_boot=200, seed=0, paired=(("good", "bad"),))
    diff = m["good - bad"]["auc"]
    assert diff["difference"] == round(m["good"]["auc"] - m["bad"]["auc"], 4) > 0
    assert diff["ci95"][0] > 0 and diff["share_a_better"] == 1.0
    # the same similarity twice differs by exactly zero on every resample
    same = evaluate_many({"a": good, "b": good.copy()}, users, positions, n_boot=50, seed=0, paired=(("a", "b"),))
    assert same["a - b"]["auc"]["ci95"] == [0.0, 0.0]
