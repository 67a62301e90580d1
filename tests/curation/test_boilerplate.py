import polars as pl

from curation.boilerplate import remove_boilerplate

NAMES = ["ann", "bob", "carl", "dora", "eve", "fred", "gina"]
FOOTER = [
    "------------------------ Sponsor ---------------------~-->",
    "Ad of the day {i}",
    "http://ads/{i}",
    "-" * 40 + "~->",
]


def posts(n_users: int, own: str) -> pl.DataFrame:
    rows = []
    for i in range(n_users):
        footer = [line.format(i=i) for line in FOOTER]
        rows.append((f"u{i}", "\n".join([f"User {NAMES[i]} writes about {NAMES[-i]}.", "", *footer])))
    rows += [("solo", f"First: {own}"), ("solo", f"Second: {own}\n{own}"), ("solo", "Cheers,\nmore")]
    return pl.DataFrame(rows, schema=["user_id", "text"], orient="row")


def test_a_footer_many_users_share_goes_and_one_users_phrase_stays():
    own = "My favourite long catch phrase that I repeat everywhere"
    frame = posts(6, own)
    found = remove_boilerplate(frame, min_users=5, min_chars=20, max_gap=3)
    removal = found.removal(frame.get_column("text"))
    texts, removed = removal.text.to_list(), removal.removed.to_list()
    assert texts[0] == "User ann writes about ann."  # the sponsor run, ad and link included
    assert removed[0].splitlines()[1] == "Ad of the day 0"  # what went is kept
    assert texts[6:] == [f"First: {own}", f"Second: {own}\n{own}", "Cheers,\nmore"]
    assert removed[6:] == [None, None, None]
    assert (removal.lines_removed, len(removal.changed), found.shared_lines) == (24, 6, 2)
    # in batches, as curate takes them: each batch loses only its own posts' lines
    parts = [found.removal(frame.get_column("text").slice(at, 4), at) for at in range(0, len(frame), 4)]
    assert pl.concat([p.text for p in parts]).to_list() == texts
    assert pl.concat([p.removed for p in parts]).to_list() == removed


def test_below_min_users_nothing_is_boilerplate():
    frame = posts(4, "x")
    removal = remove_boilerplate(frame, min_users=5, min_chars=20, max_gap=3).removal(frame.get_column("text"))
    assert removal.removed.null_count() == len(frame) and removal.lines_removed == 0


def test_rules_without_words_do_not_swallow_what_lies_between():
    rule = "=" * 30
    rows = [(f"u{i}", f"{rule}\nmy own words {i}\n{rule}") for i in range(5)]
    frame = pl.DataFrame(rows, schema=["user_id", "text"], orient="row")
    found = remove_boilerplate(frame, 5, 20, 3)
    assert found.removal(frame.get_column("text")).text.to_list() == [f"my own words {i}" for i in range(5)]


def test_a_non_ascii_footer_is_matched_with_unicode_rules():
    # é/É folded, a no-break space read as a space, digits as 0: one footer under five spellings
    footers = ["Désabonnement : écrivez à liste{}@exemple.fr", "DÉSABONNEMENT :\u00a0écrivez à liste{}@exemple.fr"]
    rows = [(f"u{i}", f"Mon texte numéro {i}.\n" + footers[i % 2].format(i)) for i in range(5)]
    frame = pl.DataFrame(rows, schema=["user_id", "text"], orient="row")
    found = remove_boilerplate(frame, 5, 20, 3)
    assert found.removal(frame.get_column("text")).text.to_list() == [f"Mon texte numéro {i}." for i in range(5)]
    assert found.shared_lines == 1
