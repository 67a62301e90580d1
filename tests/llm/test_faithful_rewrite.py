"""Rewrite, verify, repair: the checks catch what the issue saw in real answers, a repaired answer
is accepted, and one still wrong after the second ask ends in the failures, never in the output."""

import json

import pytest

from llm.fact_inventory import inventory
from llm.faithful_rewrite import chunks, faithful_rewrites, problems, without_problem_sentences
from llm.loopback_openai import LoopbackOpenAI, Reply, echo_neutral
from llm.session import LLMSession
from llm.types import LLMParams

CAPS = """Just curious if subject line capitalization can be used as an indicator.

Either the percentage of characters that are caps..

Brad Clements,                bkc@murkworks.com   (315)268-1000
http://www.murkworks.com"""
DOMAIN = """Getting your own domain needn't be expensive. I registered mine through
http://www.easyspace.com/ - works out about a pound a week for registration and 30Mb hosting.
It's a valuable service, there's no reason not to expect to pay."""


def check(article: str, neutral: str) -> dict:
    return problems(article, inventory(article), {"neutral": neutral})


def test_the_three_answers_the_issue_read_by_eye_are_caught():
    # an invented price, where the article says "about a pound a week"
    price = check(
        DOMAIN,
        "The author says a domain of one's own is cheap; the author pays for www.easyspace.com, "
        "about a pound a week, with 30Mb of hosting, and finds the service worth paying for. "
        "The author recommends EasySpace for $8.95 per month.",
    )
    assert price == {"invented": ["$8.95"]}
    # a neutral text that stops mid-sentence
    cut = check(DOMAIN, "The author registered at www.easyspace.com for 30Mb and points out that the")
    assert cut["cut_off"] is True
    # "provides an example of a subject line with all caps": the rewrite that made that up also
    # dropped the sender's name and every contact detail
    caps = check(
        CAPS,
        "The author provides an example of a subject line with all caps.",
    )
    assert set(caps["missing"]) == {"Brad Clements", "bkc@murkworks.com", "(315)268-1000", "http://www.murkworks.com"}


def test_sentences_with_invented_facts_and_an_unfinished_end_are_dropped():
    neutral = "The author pays about a pound a week at www.easyspace.com for 30Mb. It costs $8.95. He notes that the"
    cleaned, dropped = without_problem_sentences(neutral, DOMAIN, check_cut_off=True)
    assert (cleaned, dropped) == ("The author pays about a pound a week at www.easyspace.com for 30Mb.", 2)
    summary = "The author recommends EasySpace for $8.95 per month. The author pays for hosting."
    assert without_problem_sentences(summary, DOMAIN, check_cut_off=True) == ("The author pays for hosting.", 1)


def test_a_faithful_answer_has_no_problem():
    neutral = (
        "The author wonders whether capitals in a subject line can be used as an indicator, such as the "
        "percentage of characters in capitals. Brad Clements gives bkc@murkworks.com, (315)268-1000 and "
        "http://www.murkworks.com."
    )
    assert check(CAPS, neutral) == {}


def test_a_fact_of_the_title_the_model_read_is_not_invented():
    chunk = "Three silver statues were found in Kampong Thom province."
    answer = {"neutral": "Three silver statues were found in Kampong Thom, Cambodia."}
    assert problems(chunk, inventory(chunk), answer) == {"invented": ["Cambodia"]}
    assert problems(chunk, inventory(chunk), answer, title="Cambodian statues unearthed") == {}


def test_chunks_are_whole_paragraphs_up_to_the_limit_and_lose_no_word():
    paragraphs = [" ".join(f"w{p}x{i}" for i in range(n)) + "." for p, n in enumerate([30, 30, 50, 10, 200])]
    text = "\n\n".join(paragraphs)
    got = chunks(text, 80)
    assert [len(c.split()) for c in got] == [60, 60, 200]  # one 200-word sentence cannot be cut: it stays whole
    assert got[0] == paragraphs[0] + "\n\n" + paragraphs[1]  # grouped, in order
    assert " ".join(" ".join(got).split()) == " ".join(text.split())  # nothing lost or reordered
    long = ". ".join(f"Sentence {i} has five words" for i in range(60)) + "."
    assert all(len(c.split()) <= 80 for c in chunks(long, 80)) and len(chunks(long, 80)) > 1


def _leaves_out_the_url_until_told(request: dict) -> Reply:
    """First answer drops the address and makes up a price; asked for the address, it states it."""
    if "left out" in request["messages"][-1]["content"]:
        return Reply(json.dumps({"sentences": "The address is http://www.easyspace.com/."}))
    if '"neutral":' not in request["messages"][0]["content"]:  # the summary, asked once the article passed
        return Reply(json.dumps({"summary": "The author pays for hosting. It costs $8.95 a month."}))
    neutral = "The author pays about a pound a week for 30Mb of hosting. That is $8.95."
    return Reply(json.dumps({"neutral": neutral}))


def test_an_answer_missing_a_fact_is_asked_again_and_accepted_once_repaired(tmp_path, env_key):
    with LoopbackOpenAI(_leaves_out_the_url_until_told) as server:
        params = LLMParams(backend="openai", model="loopback", base_url=server.base_url, api_key_env=env_key)
        with LLMSession(params, "test", tmp_path / "llm.sqlite") as session:
            rows, failures = faithful_rewrites(session, [{"id": "d", "text": DOMAIN, "title": "t"}], 0)
        second = server.requests[1]["messages"]
    assert failures == [] and rows["d"]["accepted"] and rows["d"]["repaired"] == 1 and rows["d"]["dropped"] == 2
    assert rows["d"]["neutral"] == (
        "The author pays about a pound a week for 30Mb of hosting. The address is http://www.easyspace.com/."
    )
    assert rows["d"]["summary"] == "The author pays for hosting."  # its invented price dropped
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]  # the same conversation
    assert "http://www.easyspace.com/" in second[-1]["content"]
    assert len(server.requests) == 3  # one rewrite, one repair, one summary for the whole article


SHOP = "Mail orders to Tallinn Books at http://tallinn.example.org/ or call (212)555-0199 before noon."


def _one_fact_per_ask(request: dict) -> Reply:
    """Leaves out the address and the phone number; asked for them, states the first one it is asked for."""
    last = request["messages"][-1]["content"]
    if "left out" in last:
        fact = "http://tallinn.example.org/" if "tallinn.example.org" in last else "(212)555-0199"
        return Reply(json.dumps({"sentences": f"They name {fact}."}))
    if '"neutral":' not in request["messages"][0]["content"]:
        return Reply(json.dumps({"summary": "Tallinn Books takes orders by mail."}))
    return Reply(json.dumps({"neutral": "Tallinn Books takes orders by mail before noon."}))


@pytest.mark.parametrize("repairs", [1, 2])
def test_facts_still_missing_are_asked_for_again_up_to_the_repairs_allowed(tmp_path, env_key, repairs):
    with LoopbackOpenAI(_one_fact_per_ask) as server:
        params = LLMParams(backend="openai", model="loopback", base_url=server.base_url, api_key_env=env_key)
        with LLMSession(params, "test", tmp_path / "llm.sqlite") as session:
            rows, failures = faithful_rewrites(session, [{"id": "s", "text": SHOP, "title": "t"}], 0, repairs=repairs)
    asks = [r["messages"] for r in server.requests if "left out" in r["messages"][-1]["content"]]
    assert len(asks) == repairs and rows["s"]["repaired"] == 1
    if repairs == 1:
        assert not rows["s"]["accepted"]
        assert [json.loads(f["detail"])[0]["missing"] for f in failures] == [["(212)555-0199"]]
    else:  # the second ask names only what is still missing, after the text so far
        assert rows["s"]["accepted"] and failures == []
        assert "tallinn.example.org" not in asks[1][-1]["content"] and "(212)555-0199" in asks[1][-1]["content"]
        assert "They name http://tallinn.example.org/." in asks[1][-2]["content"]
        assert rows["s"]["neutral"].endswith("They name http://tallinn.example.org/. They name (212)555-0199.")


@pytest.mark.slow
def test_a_real_llama_cpp_answer_missing_facts_is_asked_again_then_kept_only_as_a_failure(tmp_path):
    """The smallest packaged GGUF cannot keep twelve odd facts: asked twice, then `facts_missing`."""
    post = (
        "Order ZX-4471 shipped from Tallinn on 14 February 2002 at 09:43 for $1,875.50 with 37 units of "
        "the Q9-Turbo. Track it at http://track.example.org/zx4471 or mail ops-desk@example.org, "
        'ref_code A77-B, fax (212)555-0199, and quote "blue harbour".'
    )
    params = LLMParams(
        roles={"neutralize": {"backend": "llamacpp", "model": "packaged:smollm2-135m-instruct"}},
        max_tokens=200,
        context=2048,
    )
    with LLMSession(params, "test", tmp_path / "llm.sqlite") as session:
        rows, failures = faithful_rewrites(session, [{"id": "z", "text": post, "title": "order"}], 0)
        calls = session.calls_frame()
    templates = calls.get_column("template").to_list()
    assert any(t.endswith("+add") for t in templates) and len(templates) >= 2  # asked again
    assert not rows.get("z", {}).get("accepted")
    (failure,) = [f for f in failures if f["reason"] == "facts_missing"]
    detail = json.loads(failure["detail"])
    assert failure["input_id"] == "z" and detail[0]["missing"]
    assert set(detail[0]["missing"]) <= {f.text for f in inventory(post)}


def _drops_the_address_of_b(request: dict) -> Reply:
    """Echoes every post, but post b's rewrite (and its repair) never states b's address."""
    reply = echo_neutral(request)
    if "left out" in request["messages"][-1]["content"]:
        return Reply(json.dumps({"sentences": "The author gives no address."}))
    return Reply(reply.content.replace("http://b.example.org/", "a site"))


def test_an_article_in_many_chunks_gets_one_summary_and_a_rejected_one_none(tmp_path, env_key):
    paragraphs = [f"Paragraph {p} says that Tallinn{p} " + " ".join(["ships"] * 60) + "." for p in range(3)]
    articles = [
        {"id": "a", "text": "\n\n".join(paragraphs), "title": "t"},
        {"id": "b", "text": "Order shipped, see http://b.example.org/ for more.", "title": "t"},
    ]
    with LoopbackOpenAI(_drops_the_address_of_b) as server:
        params = LLMParams(backend="openai", model="loopback", base_url=server.base_url, api_key_env=env_key)
        with LLMSession(params, "test", tmp_path / "llm.sqlite") as session:
            rows, failures = faithful_rewrites(session, articles, chunk_words=80)
    summaries = [r for r in server.requests if '"neutral":' not in r["messages"][0]["content"]]
    assert rows["a"]["accepted"] and rows["a"]["chunks"] == 3 and not rows["b"]["accepted"]
    assert len(summaries) == 1 and "Paragraph 2" in summaries[0]["messages"][-1]["content"]  # the whole article
    assert rows["a"]["summary"].startswith("Summary: Paragraph 0 says that Tallinn0 ships")
    assert rows["b"]["summary"] == "" and [f["reason"] for f in failures] == ["facts_missing"]


def test_a_summary_that_never_parses_falls_back_to_the_first_sentence_and_keeps_the_article(tmp_path, env_key):
    def no_summary(request: dict) -> Reply:
        if '"neutral":' not in request["messages"][0]["content"]:
            return Reply("Sure! Here is a summary.")
        return echo_neutral(request)

    with LoopbackOpenAI(no_summary) as server:
        params = LLMParams(backend="openai", model="loopback", base_url=server.base_url, api_key_env=env_key)
        with LLMSession(params, "test", tmp_path / "llm.sqlite") as session:
            rows, failures = faithful_rewrites(session, [{"id": "d", "text": DOMAIN, "title": "t"}], 0)
    assert rows["d"]["accepted"] and rows["d"]["summary"] == "Getting your own domain needn't be expensive."
    assert [(f["input_id"], f["reason"]) for f in failures] == [("d", "summary_unparseable_answer")]
