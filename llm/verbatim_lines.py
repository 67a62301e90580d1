"""Lines of a post that are not prose: header lines at the top ("Forwarded-by: ..."), a link or an
address on a line of its own, and the closing block (sign-off, signature, a footer below a
separator line). They carry facts, not style, and a small model rewriting prose drops or mangles
them (a long URL, "-James Rogers"), so the neutral text states them in a fixed frame instead:

    >>> split_post("Forwarded-by: Nev <nev@x.org>\\n\\nIt works, see\\n http://a.org/b\\nfor the patch.\\n\\nCheers,\\n-James Rogers\\n jamesr@best.com")
    Post(head='Forwarded-by: Nev <nev@x.org>', body='It works, see\\n\\n[link]\\n\\nfor the patch.', tail='Ends with: James Rogers; jamesr@best.com', links=('http://a.org/b',))

`body` keeps the prose for the model, with each link line replaced by a `LINK` marker paragraph
that `frame_links` turns into "Link: <url>" inside the chunk that holds it. A closing line of
closing words only ("Cheers,") is dropped: it is style.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llm.fact_inventory import PATTERNS

_ADDRESS = rf"(?:{PATTERNS['url']}|{PATTERNS['email']})"
# A line holding only links or addresses (with brackets, labels such as "Yahoo! Mail :" excluded).
_LINK_LINE = re.compile(
    rf"[\s<>()\[\],;:.'\"]*{_ADDRESS}(?:[\s<>()\[\],;:.'\"]+{_ADDRESS})*[\s<>()\[\],;:.'\"]*", re.IGNORECASE
)
_HEADER = re.compile(
    r"\s*(?:from|to|cc|date|subject|sent|forwarded-by|forwarded-to|reply-to|url|link|source|story filed|posted|"
    r"e-?mail|tel|phone|fax|web)\s*:\s*\S.*",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"\s*[-_=*~#]{3,}\s*")
_SIGN_OFF = re.compile(r"\s*(?:-{1,2}|~)\s*\S.*")  # "-James Rogers", "--Hal", "~ chad"
_ENDS_SENTENCE = re.compile(r"[.!?:;\"')\]]\s*$")
_CLOSING_WORDS = "cheers regards thanks thank you best wishes kind warm yours sincerely truly love all ta bye take care"
_CLOSINGS = set(_CLOSING_WORDS.split())
LINK = "\u2063LINK\u2063"  # an invisible separator pair: never in a post, never split by the chunker


@dataclass(frozen=True)
class Post:
    head: str  # framed header lines, or ""
    body: str  # the prose, link lines replaced by LINK paragraphs
    tail: str  # the framed closing block, or ""
    links: tuple[str, ...] = ()  # the link lines, in order, one per LINK marker

    def __repr__(self) -> str:
        body = self.body.replace(LINK, "[link]")
        return f"Post(head={self.head!r}, body={body!r}, tail={self.tail!r}, links={self.links!r})"


def _closing_line(line: str, above: str) -> bool:
    """A line of the closing block: a link, a header, a separator, a sign-off, or a short line
    without a full stop standing after a finished sentence ("Conor", "Regards,")."""
    text = line.strip()
    if not text or _LINK_LINE.fullmatch(line) or _HEADER.fullmatch(line) or _SEPARATOR.fullmatch(line):
        return True
    if _SIGN_OFF.fullmatch(line):
        return _name_like(text.lstrip("-~ ").split(), 5)
    finished_above = not above.strip() or bool(_ENDS_SENTENCE.search(above))
    return _name_like(text.split(), 3) and not _ENDS_SENTENCE.search(text) and finished_above


def _name_like(words: list[str], most: int) -> bool:
    """One word ("kre"), or a few capitalised ones ("Adam L. Beberg", "Best regards,")."""
    if not words or len(words) > most:
        return False
    return len(words) == 1 or all(
        w.strip("\"'(").strip()[:1].isupper() or w.strip(",").lower() in _CLOSINGS for w in words
    )


def _footer_start(lines: list[str]) -> int:
    """Index of a separator line among the last four non-empty lines (a list's or a mailer's
    footer is below it), else len(lines)."""
    seen = 0
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].strip():
            continue
        seen += 1
        if seen > 4:
            break
        if _SEPARATOR.fullmatch(lines[i]):
            return i
    return len(lines)


def _framed(lines: list[str]) -> list[str]:
    """The lines, without sign-off dashes, extra spaces, separators and closing words ("Cheers,")."""
    out = []
    for line in lines:
        text = " ".join(line.split()).lstrip("-~ ").strip()
        if text and not _SEPARATOR.fullmatch(text) and not set(re.findall(r"[a-z]+", text.lower())) <= _CLOSINGS:
            out.append(text)
    return out


def split_post(text: str) -> Post:
    lines = text.strip().split("\n")
    top = 0
    while top < len(lines) and (
        not lines[top].strip() or _HEADER.fullmatch(lines[top]) or _LINK_LINE.fullmatch(lines[top])
    ):
        top += 1
    end = _footer_start(lines)
    while end > top and _closing_line(lines[end - 1], lines[end - 2] if end >= 2 else ""):
        end -= 1
    head, tail = _framed(lines[:top]), _framed(lines[end:])
    body, links = [], []
    for line in lines[top:end]:
        if _LINK_LINE.fullmatch(line):
            links.append(" ".join(line.split()))
            body.append(f"\n{LINK}\n")  # a paragraph of its own, so chunks keep it whole
        else:
            body.append(line)
    return Post("\n".join(head), "\n".join(body), f"Ends with: {'; '.join(tail)}" if tail else "", tuple(links))


def frame_links(chunk: str, links: list[str]) -> tuple[str, list[str]]:
    """(the chunk without its LINK markers, "Link: ..." lines for them, taking links in order from `links`)."""
    count = chunk.count(LINK)
    if not count:
        return chunk, []
    framed = [f"Link: {links.pop(0)}" for _ in range(count) if links]
    prose = re.sub(rf"\s*{LINK}\s*", "\n\n", chunk).strip()
    return prose, framed
