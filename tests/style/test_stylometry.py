import numpy as np

from style.stylometry import DISTANCES, pair_distances, profiles
from style.threads import thread_key


def test_profiles_see_habits_not_topic():
    texts = ["lol ok!!! the cat sat... haha", "lol ok!!! the stock fell... haha", "The committee; however, agreed."]
    prof = profiles(texts)
    d = pair_distances(prof, np.array([0, 0]), np.array([1, 2]))
    assert d.shape == (2, len(DISTANCES))
    cos = DISTANCES.index("punctuation_cos")
    assert d[0, cos] > d[1, cos]  # same punctuation habits, other topic: closer than another writer


def test_empty_text_has_a_zero_profile():
    prof = profiles(["", "words here"])
    assert np.isfinite(pair_distances(prof, np.array([0]), np.array([1]))).all()


def test_thread_keys_fold_reply_prefixes_and_list_tags():
    assert thread_key("Re: [ILUG] Fwd: RE[2]: Hello  World") == thread_key("hello world") == "hello world"
    assert thread_key("AW: [SAdev] bug 123") == "bug 123"
    assert thread_key("Re:") is None and thread_key(None) is None
