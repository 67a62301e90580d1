"""Rewrite, verify, repair: neutral rewrites that keep every fact of the article, or a failure.

    rewrites, failures = faithful_rewrites(session, articles, chunk_words=80, frame=True)

0. With `frame`, header lines, lines holding only a link or an address, and the closing block
   (sign-off, signature, a footer) are not the model's: the neutral text states them as they are
   (llm/verbatim_lines.py). Facts, not style, and the lines a 1.5B model most often dropped.
1. Each article is cut into chunks of whole paragraphs of at most `chunk_words` words (a longer
   paragraph is cut between sentences): a 1.5B model rewrites 100-odd words well and drops facts
   from 500. A chunk goes to the neutralize role with its fact checklist (llm/fact_inventory.py).
2. Every answer is verified against the checklist: facts the neutral text left out, facts it
   states that the chunk does not (an invented price), a neutral text that stops mid-sentence.
3. Repair. Sentences that state an invented fact and an unfinished last sentence are dropped. If
   facts are then missing, the model is asked once more, in the same conversation, for sentences
   that state them (asking a small model to rewrite everything again loses other facts), which are
   appended, and the text is checked and cut the same way. Facts still missing are asked for
   again, from the text so far, up to `repairs` asks in all. If the result still has a problem, the article is a failure
   (`facts_missing`, `facts_invented` or `cut_off`, with the list in `detail`) and its neutral text
   is never used.

4. An article is accepted when every chunk is; its neutral text is the chunks' joined. Only then is
   the model asked for its summary, once, from the whole article (a rejected article is never
   used). A summary's sentences that state an invented fact, and an unfinished last one, are
   dropped; a summary left empty (or never parsed) is the neutral text's first sentence.
"""

from __future__ import annotations

import json
import re

from llm.answers import SENTENCE
from llm.fact_inventory import Fact, invented, inventory, missing
from llm.roles.neutralize import SUMMARIZE, roles
from llm.verbatim_lines import Post, frame_links, split_post

_PARAGRAPH = re.compile(r"\n\s*\n")
_FINISHED = re.compile(r"[.!?…:;][\"')\]]*\s*$")
# Words a finished sentence never ends on: "... and the author points out that the".
_DANGLING = re.compile(
    r"\b(?:the|a|an|and|or|but|that|which|who|of|to|in|on|at|for|with|by|from|as|is|are|was|were|be|his|her|"
    r"their|its|this|these|than|then|if|because|while|about|into)[\s,]*$",
    re.IGNORECASE,
)


def cut_off(neutral: str, article: str) -> bool:
    """A rewrite that stops mid-sentence: it ends on a word no sentence ends on, or without the
    final punctuation its article has (a post that ends unpunctuated may be retold so)."""
    if _DANGLING.search(neutral):
        return True
    return not _FINISHED.search(neutral) and bool(_FINISHED.search(article))


def chunks(text: str, max_words: int) -> list[str]:
    """Consecutive paragraphs grouped up to `max_words` words; a longer paragraph split between sentences."""
    pieces = []
    for paragraph in _PARAGRAPH.split(text.strip()):
        if len(paragraph.split()) <= max_words:
            pieces.append(paragraph.strip())
        else:
            pieces += [s for s in SENTENCE.split(paragraph.strip()) if s]
    out, words = [], 0
    for piece in pieces:
        n = len(piece.split())
        if out and words + n <= max_words:
            out[-1] += "\n\n" + piece
            words += n
        else:
            out.append(piece)
            words = n
    return out or [text]


def problems(chunk: str, facts: list[Fact], answer: dict, check_cut_off: bool = True, title: str | None = None) -> dict:
    """What is wrong with an answer for this chunk: {missing: [...], invented: [...], cut_off: bool}.
    A fact of the post's title (which the model reads too) is not invented."""
    found = {
        "missing": [f.text for f in missing(facts, answer["neutral"])],
        "invented": sorted({f.text for f in invented(answer["neutral"], chunk, title)}),
        "cut_off": check_cut_off and cut_off(answer["neutral"], chunk),
    }
    return {k: v for k, v in found.items() if v}


def _reason(found: dict) -> str:
    return "facts_missing" if found.get("missing") else "facts_invented" if found.get("invented") else "cut_off"


def without_problem_sentences(text: str, source: str, check_cut_off: bool, title: str | None = None) -> tuple[str, int]:
    """The text less every sentence stating a fact `source` (or the title) does not, and an
    unfinished last sentence; (the text, how many sentences went). Untouched when none goes."""
    sentences = [s for s in SENTENCE.split(text.strip()) if s]
    keep = [s for s in sentences if not invented(s, source, title)]
    if check_cut_off and keep and cut_off(keep[-1], source):
        keep.pop()
    return (" ".join(keep), len(sentences) - len(keep)) if len(keep) < len(sentences) else (text.strip(), 0)


def chunk_items(articles: list[dict], chunk_words: int, frame: bool = False) -> list[dict]:
    """The neutralize role's items: one per chunk of each article {id, text, title}, with its
    fact checklist (`facts`; the Fact objects in `_facts`); chunk_words 0 = whole articles.

    With `frame`, the post's header lines, link lines and closing block (llm/verbatim_lines.py)
    are not the model's: a part's `verbatim` lines go into the neutral text as they are, and a
    part with no prose left (`text` empty) is never sent.
    """
    parts = []
    for article in articles:
        post = split_post(article["text"]) if frame else Post("", article["text"], "")
        links = list(post.links)
        pieces = [("", [post.head])] if post.head else []
        body = chunks(post.body, chunk_words) if chunk_words and post.body.strip() else [post.body]
        pieces += [frame_links(text, links) for text in body]
        pieces += [("", [post.tail])] if post.tail else []
        for k, (text, verbatim) in enumerate(pieces):
            facts = inventory(text) if text.strip() else []
            parts.append(
                {
                    "id": article["id"],
                    "key": (article["id"], k),
                    "text": text,
                    "title": article.get("title"),
                    "facts": [f.text for f in facts],
                    "_facts": facts,
                    "verbatim": verbatim,
                    "_verbatim_facts": [f.text for line in verbatim for f in inventory(line)],
                }
            )
    return parts


def faithful_rewrites(
    session,
    articles: list[dict],
    chunk_words: int,
    check_cut_off: bool = True,
    frame: bool = False,
    baseline: str = "skeleton",
    repairs: int = 2,
):
    """({post_id: row} for every article whose chunks all parsed, accepted or not; failure rows).

    A row has summary, neutral, facts (the inventory), accepted, repaired (chunks asked again for facts),
    dropped (sentences taken out), chunks, verbatim (framed lines: head, links, closing block), and
    the last answer's problems; only accepted rows may be used as training input. `articles` are
    {id, text, title}; chunk_words 0 = whole articles; `frame`: see `chunk_items`; `baseline`: what
    the extractive backend answers (`neutralize.baseline`); `repairs`: how many times a chunk still
    missing facts is asked for them (`neutralize.repairs`).
    """
    rewrite, add_facts = roles(baseline)
    parts = chunk_items(articles, chunk_words, frame)
    failures: list[dict] = []
    prose = [p for p in parts if p["text"].strip()]
    first = session.runner.outputs(rewrite, prose, failures)
    answers, found, dropped, asked = {}, {}, {}, []
    for p in parts:
        if not p["text"].strip():
            answers[p["key"]] = {"neutral": ""}
            continue
        if p["key"] not in first:
            continue
        key = p["key"]
        title = p["title"]
        answers[key], found[key] = first[key], problems(p["text"], p["_facts"], first[key], check_cut_off, title)
        if found[key]:
            neutral, dropped[key] = without_problem_sentences(first[key]["neutral"], p["text"], check_cut_off, title)
            answers[key] = {"neutral": neutral}
            found[key] = problems(p["text"], p["_facts"], answers[key], check_cut_off, title)
            if found[key].get("missing"):
                previous = json.dumps(first[key], ensure_ascii=False)
                asked.append(p | {"previous": previous, "missing": found[key]["missing"]})
    repaired = set()
    for _ in range(repairs):
        if not asked:
            break
        added = session.runner.outputs(add_facts, asked, failures)
        again = []
        for p in asked:
            key = p["key"]
            repaired.add(key)
            if key not in added:
                continue
            text = f"{answers[key]['neutral']} {added[key]['sentences']}".strip()
            text, gone = without_problem_sentences(text, p["text"], check_cut_off, p["title"])
            dropped[key] = dropped.get(key, 0) + gone
            answers[key] = answers[key] | {"neutral": text}
            found[key] = problems(p["text"], p["_facts"], answers[key], check_cut_off, p["title"])
            if found[key].get("missing"):  # asked again with what is still left out, after this answer
                previous = json.dumps({"neutral": text}, ensure_ascii=False)
                again.append(p | {"previous": previous, "missing": found[key]["missing"]})
        asked = again
    rows = _assemble(parts, answers, found, repaired, dropped)
    _add_summaries(session, articles, rows, failures, check_cut_off)
    for post_id, row in rows.items():
        bad = [(k, f) for k, f in enumerate(row.pop("_problems")) if f]
        if not row["accepted"]:
            failures.append(
                {
                    "role": rewrite.name,
                    "input_id": post_id,
                    "reason": _reason(bad[0][1]),
                    "detail": json.dumps([{"chunk": k, **f} for k, f in bad], ensure_ascii=False),
                    "response": row["neutral"],
                }
            )
    return rows, failures


def _add_summaries(session, articles: list[dict], rows: dict, failures: list, check_cut_off: bool) -> None:
    """Each accepted row's summary: one call per whole article, its invented sentences dropped; the
    neutral text's first sentence when nothing is left. A rejected row's summary stays empty."""
    wanted = [a | {"key": a["id"]} for a in articles if a["id"] in rows and rows[a["id"]]["accepted"]]
    lost: list[dict] = []
    said = session.runner.outputs(SUMMARIZE, wanted, lost)
    failures += [f | {"reason": f"summary_{f['reason']}"} for f in lost]  # the article is still used
    for article in wanted:
        row = rows[article["id"]]
        summary = said.get(article["id"], {}).get("summary", "")
        summary, dropped = without_problem_sentences(summary, article["text"], check_cut_off, article.get("title"))
        row["dropped"] += dropped
        row["summary"] = summary or (SENTENCE.split(row["neutral"]) or [""])[0]


def _assemble(parts: list[dict], answers: dict, found: dict, repaired: set, dropped: dict) -> dict:
    by_article: dict[str, list[dict]] = {}
    for p in parts:
        by_article.setdefault(p["id"], []).append(p)
    rows = {}
    for post_id, mine in by_article.items():
        if not all(p["key"] in answers for p in mine):
            continue  # a chunk never parsed: already a failure row of the runner's
        rows[post_id] = {
            "summary": "",
            "neutral": "\n\n".join(n for p in mine if (n := _with_verbatim(answers[p["key"]]["neutral"], p))),
            "facts": [f for p in mine for f in p["facts"] + p["_verbatim_facts"]],
            "accepted": not any(found.get(p["key"]) for p in mine),
            "repaired": sum(p["key"] in repaired for p in mine),
            "dropped": sum(dropped.get(p["key"], 0) for p in mine),
            "chunks": sum(bool(p["text"].strip()) for p in mine),
            "verbatim": sum(len(p["verbatim"]) for p in mine),
            "_problems": [found.get(p["key"]) or {} for p in mine],
        }
    return rows


def _with_verbatim(neutral: str, part: dict) -> str:
    return "\n".join(x for x in (neutral, *part["verbatim"]) if x)
