import json

import pytest

from common.errors import InputError
from llm.cache import LLMCache
from llm.fact_inventory import invented, inventory, missing
from llm.inverse_generation import NeutralizeParams, copy_ratios
from llm.meaning_coverage import sentences
from llm.roles.neutralize import ROLE, parse_output, roles, skeleton_answer
from llm.runner import LLMRunner
from llm.skeleton import skeleton
from llm.types import LLMParams

POSTS = [
    "Hi all!! I've just paid $1,299 for a 40GB Maxtor :-) and it doesn't spin up, lol.\n\nCheers, Dmitri",
    "OMG the Dell laptop costs $1,299 on 3 March!!! Ask Jane in Dublin, she's never wrong.",
    "Run `make install` in /usr/local/src/exmh-2.5 on a 1024x768 display; see http://exmh.org/faq.html.",
    "Une publication de l'Institut Pasteur. Call (315) 268-1000 at 10:30 am, or mail bob@example.org.",
    "We tried redhat-7_2 and three other releases on Monday... none of them worked :( heh",
]


@pytest.mark.parametrize("post", POSTS)
def test_every_fact_is_kept_verbatim_and_none_is_invented(post):
    out = skeleton(post)
    facts = inventory(post)
    # The checker cannot find "Institut" in "l'Institut" even in the article itself: not the skeleton's loss.
    assert facts and missing(facts, out) == missing(facts, post) and not invented(out, post)
    assert all(f.text in out for f in facts)  # as the article writes it, not only "found"


def test_the_voice_goes_and_the_content_words_stay_in_order():
    out = skeleton(POSTS[0])
    assert out == "paid $1,299 40GB Maxtor not spin | Dmitri"
    words = skeleton(POSTS[1]).split()
    # function words, greetings, slang, emoticons, punctuation habits and casing are gone
    assert not {"the", "on", "in", "OMG", "omg", "she's", "she"} & set(words)
    assert not any(c in "!:)," for c in skeleton(POSTS[1]).replace("$1,299", ""))
    assert words.index("laptop") < words.index("costs") < words.index("Jane") < words.index("Dublin")
    assert "not" in words  # "never": a negation is meaning, not voice


def test_number_words_and_negations_stay_and_glued_tokens_stay_whole():
    out = skeleton(POSTS[4])
    assert "three" in out.split() and "not" in out.split()
    assert "7" not in out.split() and "redhat" in out.split()  # no number the article does not state
    assert "1024x768" in skeleton(POSTS[2]) and "l'Institut" in skeleton(POSTS[3])


def test_sentence_boundaries_are_kept_and_split_where_the_project_splits():
    out = skeleton("Then Dmitri sold three bikes. He then bought a car! Was it red? Yes, very red indeed.")
    assert out == "Dmitri sold three bikes | bought car | red | red"
    assert sentences(skeleton("Then Dmitri sold three old bikes. Then Jane bought a new red car.")) == [
        "Dmitri sold three old bikes",
        "Jane bought new red car",
    ]


def test_cjk_characters_are_words_joined_as_the_script_writes_them():
    assert skeleton("我们今天去了北京。天气很好！ Then Dmitri said: hi.") == "我们今天去了北京 | 天气很好 | Dmitri said"


def test_a_skeleton_is_far_from_a_copy_where_the_extractive_text_is_one():
    article = "Well, I think the new Dell laptop is really quite good, and it only costs $1,299 in Dublin."
    extractive = json.loads(ROLE.baseline({"text": article}))["neutral"]
    skeletal = parse_output(skeleton_answer({"text": article}))["neutral"]
    copy, skel = copy_ratios([(extractive, article), (skeletal, article)])
    assert copy > 0.95 and skel < 0.8


def test_each_baseline_has_its_own_cache_keys(tmp_path):
    items = [{"id": f"p{i}", "key": f"p{i}", "text": post, "title": None} for i, post in enumerate(POSTS)]
    cache = LLMCache(tmp_path / "c.sqlite")
    answers = {}
    for baseline in ("extractive", "skeleton", "skeleton"):
        runner = LLMRunner(LLMParams(), cache, "t")
        answers[baseline] = runner.outputs(roles(baseline)[0], items, [])
        last = runner.stats
    assert (last.calls, last.cache_hits) == (0, len(POSTS))  # the second skeleton run: every answer cached
    assert all(answers["skeleton"][i["id"]]["neutral"] == skeleton(i["text"]) for i in items)
    assert all(answers["extractive"][i["id"]]["neutral"] != answers["skeleton"][i["id"]]["neutral"] for i in items)


def test_an_unknown_baseline_is_one_line_naming_the_choices():
    with pytest.raises(InputError, match="neutralize.baseline='copy'; allowed: skeleton, extractive"):
        NeutralizeParams(baseline="copy")
    with pytest.raises(InputError, match="allowed: skeleton, extractive"):
        roles("copy")
