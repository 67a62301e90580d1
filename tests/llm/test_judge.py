import json

import pytest

from llm.roles.judge import JUDGE, PRINCIPLES, judge_baseline, judge_input, judge_output, reflect_output
from training.dpo_data import judge_pairs

ITEM = {
    "summary": "Vipul released Razor 2.1 on Monday.",
    "neutral": "Vipul released Razor version 2.1 on Monday. It fixes the reporting bug.",
    "reference": "heh, razor rocks. the reporting bug is gone, mostly. -- v",
}


def verdict(**scores):
    return json.dumps({pid: {"score": scores.get(pid, 4), "reason": f"{pid} looks fine"} for pid in PRINCIPLES})


def test_prompt_lists_every_principle_and_the_version_follows_the_principles_file():
    system = judge_input(ITEM | {"candidate": "x"})[0]["content"]
    assert all(pid in system for pid in PRINCIPLES) and "+principles@" in JUDGE.version


@pytest.mark.parametrize(
    "answer, error",
    [
        (verdict(), None),
        (f"```json\n{verdict(style=2)}\n```", None),
        (verdict(style=6), "style.score=6"),
        (verdict(style=True), "style.score=True"),
        (json.dumps({"style": {"score": 3, "reason": "ok"}}), "expected exactly"),
        (verdict().replace("style looks fine", " "), "style.reason"),
        ("The article is good. 5/5", "not JSON"),
    ],
)
def test_judge_answers_clean_noisy_and_invalid(answer, error):
    if error is None:
        parsed = judge_output(answer)
        assert set(parsed["scores"]) == set(PRINCIPLES) and 1 <= parsed["total"] <= 5
    else:
        with pytest.raises(ValueError, match=error):
            judge_output(answer)


def test_reflection_may_overturn_only_with_a_reason():
    assert reflect_output('{"overturn": true, "reason": "B keeps the facts"}')["overturn"] is True
    assert reflect_output('{"overturn": false, "reason": ""}')["overturn"] is False
    with pytest.raises(ValueError, match="needs a reason"):
        reflect_output('{"overturn": true, "reason": "  "}')
    with pytest.raises(ValueError, match="true or false"):
        reflect_output('{"overturn": "yes", "reason": "x"}')


def test_baseline_judge_penalises_invented_facts_and_loops():
    good = judge_output(judge_baseline(ITEM | {"candidate": "heh, Vipul released razor 2.1 on Monday. bug gone."}))
    bad = judge_output(judge_baseline(ITEM | {"candidate": "Bill Gates bought it in 1999. " * 4}))
    assert good["scores"]["no_invented_facts"] == 5 and bad["scores"]["no_invented_facts"] < 5
    assert bad["scores"]["fluency"] < good["scores"]["fluency"] and good["total"] > bad["total"]
    assert "Gates" in bad["reasons"]["no_invented_facts"]


def test_judge_pairs_take_best_and_worst_skip_ties_and_swap_when_overturned():
    prompt = {"prompt": [], "user_id": "u", "target_post_id": "t", "ref_post_id": "r"}
    verdicts = {("t", 0): {"total": 2.0}, ("t", 1): {"total": 4.5}, ("t", 2): {"total": 3.0}}
    [pair] = judge_pairs([prompt], [["a", "b", "c"]], verdicts, {})
    assert (pair["chosen"][0]["content"], pair["rejected"][0]["content"]) == ("b", "a")
    [swapped] = judge_pairs([prompt], [["a", "b", "c"]], verdicts, {"t": {"overturn": True, "reason": "a is true"}})
    assert swapped["chosen"][0]["content"] == "a" and "a is true" in swapped["notes"]
    tie = {("t", k): {"total": 3.0} for k in range(3)}
    assert judge_pairs([prompt], [["a", "b", "c"]], tie, {}) == []
