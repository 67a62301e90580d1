"""Turn one raw RFC 822 message into a post, or say why it is not one.

Mailing-list posts carry a lot that is not the author's own writing: quoted replies,
"X wrote:" attributions, signatures, PGP armour, list footers and forwarded tails.
`clean_body` removes those so that the style filter later learns the author, not the list.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import re
from dataclasses import dataclass
from datetime import timezone

from curation.reasons import Reason

# A line quoted from an earlier message: "> text", ">> text", "  | text" (exmh), ") text", "Chris> text" (Supercite).
_QUOTED = re.compile(r"^\s{0,4}(>|\|\s|\)(\s|$)|[A-Za-z]{1,12}>\s)")
# "On Thu, 22 Aug 2002, Robert Elz wrote:" / "Joe Bloggs writes:" / "--- Jane said:".
_ATTRIBUTION = re.compile(r"\b(wrote|writes|write|said|says|posted|mentioned)\s*:\s*$", re.IGNORECASE)
# "[Skip Montanaro]" alone on a line introduces a quotation in some lists.
_BRACKETED_NAME = re.compile(r"^\[[A-Z][\w .'-]{1,40}\]\s*$")
_ON_DATE_START = re.compile(r"^\s*(On|Quoting|At)\b", re.IGNORECASE)
# Quoted header blocks that some clients put above a quotation.
_HEADER_LIKE = re.compile(
    r"^\s*(Date|From|To|Cc|Subject|Sent|Message-ID|In-Reply-To|Forwarded-by)\s*:\s", re.IGNORECASE
)
_FORWARD_START = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Forwarded message|Forwarded by|Begin forwarded message)"
    r"|Begin forwarded message:|-+\s*Forwarded\s)",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^(- )?--\s?$")  # "- --" is a signature dash-escaped by PGP
_PGP_SIGNED = re.compile(r"^-----BEGIN PGP SIGNED MESSAGE-----\s*$")
_PGP_BLOCK_START = re.compile(r"^-----BEGIN PGP (SIGNATURE|PUBLIC KEY BLOCK)-----\s*$")
_PGP_BLOCK_END = re.compile(r"^-----END PGP (SIGNATURE|PUBLIC KEY BLOCK)-----\s*$")
# A footer starts with a rule line and, within a few lines, says what list or sponsor it is.
_RULE = re.compile(r"^\s*[-_=*~]{10,}\s*$")
_FOOTER_WORDS = re.compile(
    r"mailing list|listinfo|unsubscribe|mailman|sponsored by|yahoo! groups|"
    r"list archive|to leave this list|http://lists\.|for \(un\)subscription",
    re.IGNORECASE,
)
# The year of an RFC 2822 date: "01 May 0001", "Mon, 1 Jul 02".
_YEAR = re.compile(r"\b\d{1,2}\s+[A-Za-z]{3,9}\s+(\d+)\b")
# Footers that come without a rule line, e.g. "Irish Linux Users' Group: ilug@linux.ie".
_BARE_FOOTER = re.compile(r"^(Irish Linux Users' Group|To unsubscribe from this group)", re.IGNORECASE)


def clean_body(text: str) -> str:
    """The author's own words from a mail body: quotes, attributions, signature and footers removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = _cut_tail(lines)
    kept: list[str] = []
    in_pgp_block = False
    for i, line in enumerate(lines):
        if _PGP_BLOCK_START.match(line):
            in_pgp_block = True
            continue
        if in_pgp_block:
            in_pgp_block = not _PGP_BLOCK_END.match(line)
            continue
        if _PGP_SIGNED.match(line) or (kept == [] and line.startswith("Hash: ")):
            continue
        if _QUOTED.match(line) or _is_attribution(lines, i) or _in_header_block(lines, i):
            continue
        kept.append(line.rstrip())
    return _squeeze_blank_lines(kept)


def _cut_tail(lines: list[str]) -> list[str]:
    """Everything from the first signature, forwarded tail or list footer onward is dropped."""
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line) or _FORWARD_START.match(line) or _BARE_FOOTER.match(line):
            return lines[:i]
        if _RULE.match(line) and any(_FOOTER_WORDS.search(nxt) for nxt in lines[i + 1 : i + 6]):
            return lines[:i]
    return lines


def _is_attribution(lines: list[str], i: int) -> bool:
    line = lines[i]
    if (len(line) < 200 and _ATTRIBUTION.search(line)) or _BRACKETED_NAME.match(line):
        return True
    # "On Thu, 22 Aug 2002 at 10:00, Joe Bloggs" + "<joe@example.com> wrote:" wrapped over two lines.
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    return bool(_ON_DATE_START.match(line) and len(nxt) < 120 and _ATTRIBUTION.search(nxt))


def _in_header_block(lines: list[str], i: int) -> bool:
    """A run of two or more header-like lines ("Date: ...", "From: ...") is a quoted header."""
    if not _HEADER_LIKE.match(lines[i]):
        return False
    prev_is = i > 0 and bool(_HEADER_LIKE.match(lines[i - 1]))
    next_is = i + 1 < len(lines) and bool(_HEADER_LIKE.match(lines[i + 1]))
    return prev_is or next_is


def _squeeze_blank_lines(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line.strip() == "" and (not out or out[-1] == ""):
            continue
        out.append(line if line.strip() else "")
    return "\n".join(out).strip()


@dataclass(frozen=True)
class AutomatedRules:
    """What marks a message as written by a machine rather than a person."""

    sender_patterns: tuple[str, ...]
    subject_patterns: tuple[str, ...]
    body_patterns: tuple[str, ...] = ()

    def reason(self, sender: str, subject: str, headers: email.message.Message) -> str | None:
        auto = str(headers.get("Auto-Submitted", "no")).strip().lower()
        if auto != "no":
            return f"Auto-Submitted: {auto}"
        if any(name.lower().startswith("x-bugzilla") for name in headers.keys()):
            return "X-Bugzilla header"
        for pattern in self.sender_patterns:
            if re.search(pattern, sender, re.IGNORECASE):
                return f"sender matches {pattern!r}"
        for pattern in self.subject_patterns:
            if re.search(pattern, subject, re.IGNORECASE):
                return f"subject matches {pattern!r}"
        return None

    def body_reason(self, body: str) -> str | None:
        """Newsletters and digests sent from a person's address give themselves away in the body."""
        for pattern in self.body_patterns:
            if re.search(pattern, body, re.IGNORECASE | re.MULTILINE):
                return f"body matches {pattern!r}"
        return None


@dataclass(frozen=True)
class ParsedMail:
    """A message accepted as a post (reason is None) or rejected with a reason and detail."""

    sender: str | None
    created_at: object | None  # datetime in UTC
    created_at_raw: str | None
    title: str | None
    text: str | None
    message_id: str | None
    reason: str | None = None
    detail: str | None = None


def parse_message(raw: bytes, rules: AutomatedRules, max_chars: int) -> ParsedMail:
    """Parse raw RFC 822 bytes into a post; every failure is a `Reason` with a human detail."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not msg.keys():
        return ParsedMail(None, None, None, None, None, None, Reason.UNPARSEABLE, "no headers found")
    # The address comes from the raw header: decoding first would let an encoded display name
    # ("=?utf-8?q?bob=40example.com?= <mallory@evil.com>") pose as the address.
    sender = email.utils.parseaddr(str(msg.get("From") or ""))[1].strip().lower() or None
    subject = " ".join(_header_text(msg.get("Subject")).split()) or None
    date_raw = _header_text(msg.get("Date")).strip() or None
    message_id = _header_text(msg.get("Message-ID")).strip().strip("<>") or None
    created_at = _parse_date(date_raw)
    base = dict(sender=sender, created_at=created_at, created_at_raw=date_raw, title=subject, message_id=message_id)

    def reject(reason: str, detail: str, text: str | None = None) -> ParsedMail:
        return ParsedMail(text=text, reason=reason, detail=detail, **base)

    if sender is None or "@" not in sender:
        return reject(Reason.MISSING_USER, f"From header {msg.get('From')!r} has no address")
    automated = rules.reason(sender, subject or "", msg)
    if automated:
        return reject(Reason.AUTOMATED_SENDER, automated)
    if created_at is None:
        return reject(Reason.BAD_DATE, f"Date header {date_raw!r} is missing or unparseable")
    body, problem = _plain_text(msg)
    if body is None:
        return reject(problem[0], problem[1])
    automated = rules.body_reason(body)
    if automated:
        return reject(Reason.AUTOMATED_SENDER, automated)
    text = clean_body(body)
    if not text:
        return reject(Reason.EMPTY_BODY, "nothing left after removing quotes, signature and footers", body)
    if len(text) > max_chars:
        return reject(Reason.OVERSIZE, f"{len(text)} characters > max_chars={max_chars}", text)
    return ParsedMail(text=text, **base)


def _header_text(value) -> str:
    """A header as text, with RFC 2047 encoded words ("=?iso-8859-1?q?...?=") decoded."""
    if value is None:
        return ""
    parts = []
    for chunk, charset in email.header.decode_header(str(value)):
        if isinstance(chunk, bytes):
            chunk = chunk.decode(_known_charset(charset) or "latin-1", errors="replace")
        parts.append(chunk)
    return "".join(parts)


def _parse_date(value: str | None):
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # email.utils reads any year under 100 as two digits: "0001" would become 2001.
    year = _YEAR.search(value)
    if parsed is None or (year and len(year.group(1)) != 2 and int(year.group(1)) != parsed.year):
        return None
    if parsed.tzinfo is None:  # RFC 2822 says "-0000" means unknown zone: treat as UTC
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
)


def _known_charset(name: str | None) -> str | None:
    if not name:
        return None
    try:
        import codecs

        return codecs.lookup(name).name
    except LookupError:
        return None


def _plain_text(msg: email.message.Message) -> tuple[str | None, tuple[str, str]]:
    """The first text/plain part, decoded; or None and (reason, detail)."""
    part = next((p for p in msg.walk() if p.get_content_type() == "text/plain" and not p.is_multipart()), None)
    if part is None:
        kinds = sorted({p.get_content_type() for p in msg.walk() if not p.is_multipart()})
        return None, (Reason.NO_PLAIN_TEXT, f"parts: {', '.join(kinds)}")
    payload = part.get_payload(decode=True) or b""
    declared = part.get_content_charset()
    # A byte-order mark says UTF-16/32 whatever the header claims.
    sniffed = next((name for bom, name in _BOMS if payload.startswith(bom)), None)
    # Mail of 2002 often mislabels its charset: try the declared one, then UTF-8, then Windows-1252.
    for charset in (sniffed, _known_charset(declared), "utf-8", "cp1252"):
        if charset is None:
            continue
        try:
            text = payload.decode(charset)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:  # UTF-16 without a BOM or a charset: Windows-1252 would accept it as mojibake
            return None, (Reason.BAD_ENCODING, f"NUL characters under {charset} (UTF-16 with no declared charset?)")
        if text.count("\ufffd") > 0.01 * max(len(text), 1):
            return None, (Reason.BAD_ENCODING, f"{text.count(chr(0xFFFD))} replacement characters")
        return text, ("", "")
    return None, (Reason.BAD_ENCODING, f"body decodes under none of {declared!r}, utf-8, cp1252")
