from datetime import datetime, timezone

import pytest

from curation.ingest import IngestParams
from curation.mail import clean_body, parse_message
from curation.reasons import Reason
from tests.conftest import real_message

RULES = IngestParams().rules


def parse(raw: bytes):
    return parse_message(raw, RULES, max_chars=100_000)


def test_exmh_pipe_quotes_and_quoted_headers_are_removed():
    post = parse(real_message("00001"))
    assert post.reason is None
    assert post.text.startswith("For me it is very repeatable")
    assert "I can't reproduce this error" not in post.text  # "  | " quotation
    assert "Message-ID:" not in post.text and "Chris Garrigues" not in post.text  # quoted header block
    assert "Exmh-workers mailing list" not in post.text  # list footer
    assert post.created_at == datetime(2002, 8, 22, 11, 26, 25, tzinfo=timezone.utc)  # +0700 -> UTC
    assert post.sender == "kre@munnari.oz.au"  # normalised to lower case


def test_wrote_line_quote_signature_and_yahoo_footer_are_removed():
    text = parse(real_message("00008")).text
    assert text.startswith("You're probably right")
    assert "Martin Adamson wrote" not in text
    assert "beaten egg" not in text
    assert "Stewart Smith" not in text  # signature after "-- "
    assert "Yahoo" not in text and "unsubscribe" not in text
    assert text.endswith("once you've seen this pic.")


def test_mentioned_attribution_and_ilug_footer_are_removed():
    text = parse(real_message("00013")).text
    assert "mentioned:" not in text and "This is likely because" not in text
    assert "Irish Linux Users' Group" not in text
    assert "Woohoo." in text and text.endswith("Kate")


def test_pgp_armour_and_dash_escaped_signature_are_removed():
    text = parse(real_message("00052")).text
    assert "PGP" not in text and "iQEVAwUB" not in text
    assert "Justin MacCarthy wrote" not in text and "zgrep" not in text
    assert "for i in *.zip" in text and text.endswith("Waider.")


def test_sourceforge_footer_is_removed():
    text = parse(real_message("00010")).text
    assert text.endswith("will appreciate any\nsuggestions.")


@pytest.mark.parametrize(
    "prefix, reason, detail",
    [
        ("00137", Reason.AUTOMATED_SENDER, "sender"),
        ("01315", Reason.AUTOMATED_SENDER, "CVS"),
        ("00947", Reason.NO_PLAIN_TEXT, "text/html"),
    ],
)
def test_real_messages_that_are_not_posts(prefix, reason, detail):
    post = parse(real_message(prefix))
    assert post.reason == reason
    assert detail in post.detail


def _message(headers: dict, body: bytes) -> bytes:
    head = "".join(f"{k}: {v}\n" for k, v in headers.items()).encode()
    return head + b"\n" + body


BASE = {"From": "Jane <Jane@Example.org>", "Date": "Tue, 03 Sep 2002 10:00:00 +0200", "Subject": "hello"}


@pytest.mark.parametrize(
    "change, body, reason",
    [
        ({"From": "nobody"}, b"some words here", Reason.MISSING_USER),
        ({"Date": "the day after tomorrow"}, b"some words here", Reason.BAD_DATE),
        ({}, b"> only a quote\n> of someone else\n", Reason.EMPTY_BODY),
        ({"Content-Type": "text/plain; charset=utf-8"}, b"\x81\x8d\x8f\x90\x9d" * 4, Reason.BAD_ENCODING),
        ({"Auto-Submitted": "auto-generated"}, b"some words here", Reason.AUTOMATED_SENDER),
        ({}, b"To view this newsletter in full-color, visit: http://x\nnews", Reason.AUTOMATED_SENDER),
    ],
)
def test_each_mail_rejection_reason(change, body, reason):
    post = parse(_message(BASE | change, body))
    assert post.reason == reason
    assert post.detail


def test_oversize_message():
    post = parse_message(_message(BASE, b"word " * 100), RULES, max_chars=50)
    assert post.reason == Reason.OVERSIZE


def test_encoded_subject_and_latin1_body_are_decoded():
    headers = BASE | {"Subject": "=?iso-8859-1?q?Caf=E9_prices?=", "Content-Type": "text/plain; charset=iso-8859-1"}
    post = parse(_message(headers, "It costs \xa3160,000 now.".encode("latin-1")))
    assert post.title == "Café prices"
    assert post.text == "It costs £160,000 now."


@pytest.mark.parametrize(
    "quoted",
    [
        "> plain quote",
        "  | exmh quote",
        ") parenthesis quote",
        "Chris> Supercite quote",
        "On Mon, 22 Jul 2002 the voices made Olivier Nicole write:",
        "[Skip Montanaro]",
        "Date: Mon, 2 Sep 2002\nFrom: Bob <bob@example.org>",
    ],
)
def test_quotation_styles_are_removed(quoted):
    assert clean_body(f"{quoted}\nMy own words.") == "My own words."


def test_clean_body_keeps_the_authors_paragraphs():
    body = "Hi all,\n\nOn Mon, 2 Sep 2002, Bob Smith\n<bob@example.org> wrote:\n> quoted\n\nMy answer.\n\n\n\nBye\n-- \nsig\n"
    assert clean_body(body) == "Hi all,\n\nMy answer.\n\nBye"
