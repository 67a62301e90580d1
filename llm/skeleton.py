"""A content skeleton of an article: its facts and content words in order, none of its voice.

    >>> skeleton("Hi all!! I've just paid $1,299 for a 40GB Maxtor :-) and it doesn't spin up, lol.")
    'paid $1,299 40GB Maxtor not spin'
    >>> skeleton("Then Dmitri sold 3 bikes. He left!")
    'Dmitri sold 3 bikes | left'

The "delete" step of delete-retrieve-generate style transfer (Li et al., 2018) applied to every
style marker at once, with no model: what is left can only be restyled from a reference.

- kept verbatim: every occurrence of a fact of the inventory (llm/fact_inventory.py: numbers,
  names, dates, prices, addresses, URLs, code and command tokens), so a rewrite check passes;
- kept lower-cased: content words, number words ("three" is a fact too), and a negation as
  `not` ("don't", "never", "no": meaning, not voice);
- kept: sentence boundaries, as ` | `: a mark no author writes, so no habit of ending sentences
  survives (with a full stop after each, the style filter still found the author: style removed
  0.33 instead of 0.38 on the default corpus's first 400 targets); llm/answers.py's `SENTENCE`
  splits there;
- dropped: function words (scikit-learn's English stop-word list), the fact inventory's common
  words (greetings, sign-offs, chat abbreviations), slang markers, emoticons, every other
  punctuation mark, casing, and the rest of a contraction ("I've" -> "i", a stop word).

Words follow the project's CJK rule (curation/words.py): each Han, Hiragana or Katakana character
is a word; CJK words are kept as written and joined without spaces, as the script is.
"""

from __future__ import annotations

import functools

import regex

from curation.words import WORD_PATTERN
from llm.fact_inventory import COMMON_WORDS, NUMBER_WORDS, fact_spans

# A sentence ends at a run of end marks before a space (or the text's end), or at a blank line.
_TOKEN = regex.compile(rf"(?P<word>{WORD_PATTERN})|(?P<end>[.!?]+(?=\s|$)|[。！？]+|\n[ \t]*\n)", regex.V1)
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_EMOTICON = regex.compile(r"(?<!\w)[:;=8xX][-o^']?[)(\]\[dDpP/\\|*3]+(?!\w)|<3|\^_*\^")
_SLANG = regex.compile(r"(?:lol|rofl|lmao|heh+|(?:he)+h?|(?:ha)+h?|gah|ugh|wtf|omg|hmm+|argh+|yeah|yep|nope)")
_NEGATIONS = frozenset({"not", "no", "never", "nor", "none", "nobody", "nothing", "cannot", "cant", "nowhere"})


@functools.cache
def _dropped() -> frozenset[str]:
    """Function words and voice words: a library's stop words, less negations and number words."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset((ENGLISH_STOP_WORDS | COMMON_WORDS) - _NEGATIONS - NUMBER_WORDS)


def _content(word: str) -> str | None:
    """The word as the skeleton writes it, or None when it carries no content."""
    if _CJK.match(word):
        return word
    base, _, clitic = word.lower().replace("’", "'").partition("'")
    if base in _NEGATIONS or (clitic == "t" and base.endswith("n")):  # "don't", "won't", "isn't"
        return "not"
    if base in _dropped() or _SLANG.fullmatch(base) or base.isdigit():
        return None  # a number the inventory did not claim is a piece of a token ("7" of "redhat-7_2")
    return base


def _words(segment: str, sentences: list[list[str]]) -> None:
    for token in _TOKEN.finditer(_EMOTICON.sub(" ", segment)):
        if token.group("end"):
            if sentences[-1]:
                sentences.append([])
        elif (word := _content(token.group("word"))) is not None:
            sentences[-1].append(word)


def _glued(text: str, i: int) -> bool:
    """Whether text[i] belongs to the token around it: a letter or digit, or an apostrophe between two."""
    if text[i].isalnum():
        return True
    return text[i] in "'’" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()


def _join(words: list[str]) -> str:
    out = ""
    for word in words:
        cjk_pair = out and _CJK.match(out[-1]) and _CJK.match(word)
        out += word if not out or cjk_pair else " " + word
    return out


def skeleton(text: str) -> str:
    """The article's facts verbatim and its content words lower-cased, in order, sentences
    separated by ` | `; empty when the article has neither."""
    sentences: list[list[str]] = [[]]
    position = 0
    for start, end, fact in sorted(fact_spans(text), key=lambda s: s[0]):
        if start < position:
            continue  # inside the token of the fact before it ("1024x" then "768")
        # The span may be wider than the fact ("Maxtor." or "The Dell"): the rest is read as words.
        at = text.find(fact.text, start, end)
        at, stop = (at, at + len(fact.text)) if at >= 0 else (start, end)
        # A fact glued to letters ("1024x768", "l'Institut") is kept with them: split, it would be
        # a new number or name that the article does not state.
        while at > position and _glued(text, at - 1):
            at -= 1
        while stop < len(text) and _glued(text, stop):
            stop += 1
        _words(text[position:at], sentences)
        sentences[-1].append(text[at:stop])
        position = stop
    _words(text[position:], sentences)
    return " | ".join(_join(s) for s in sentences if s)
