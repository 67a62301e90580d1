import pytest

from llm.fact_inventory import invented, inventory, missing


def kinds(text: str) -> dict:
    return {f.text: f.kind for f in inventory(text)}


def test_every_kind_is_found_once_and_claimed_by_the_most_specific_pattern():
    found = kinds(
        "Dave paid $1,299 for a 40GB Maxtor at http://frys.com/returns on 3 March 2002, 10:30 am; mail "
        "bkc@murkworks.com or call (315)268-1000. Run `rpm -Uvh foo-1.2.rpm`, then edit /etc/mail/local.cf "
        'with --verbose and use_bayes 1. He said "the big one" about RedHat 7.3 twice.'
    )
    assert found == {
        "rpm -Uvh foo-1.2.rpm": "code",
        "http://frys.com/returns": "url",
        "bkc@murkworks.com": "email",
        "$1,299": "money",
        "3 March 2002": "date",
        "(315)268-1000": "phone",
        "10:30 am": "time",
        "40GB": "quantity",
        "/etc/mail/local.cf": "command",
        "--verbose": "command",
        "use_bayes": "command",
        '"the big one"': "quoted",
        "1": "number",
        "7.3": "number",
        "Maxtor": "name",
        "RedHat": "name",
    }  # "Dave" opens a sentence and is a common word of the lexicon: not counted


def test_emphasis_and_sentence_openers_are_not_names_but_acronyms_and_rare_openers_are():
    found = kinds("And yet STILL nobody came. Either way NCIS said no. Sklyarov wrote to the UK office.")
    assert set(found) == {"NCIS", "Sklyarov", "UK"}


def test_contractions_quoted_openers_and_sign_off_dashes_are_not_facts_of_their_own():
    # seen as "missing facts" in real answers: "Don't", "You'd", "Because Hamza", a quote's first
    # word, and a sign-off "-Dave" taken for a command-line flag
    found = kinds("Don't worry. You'd see. Because Hamza left. \"Being late hurts. Bull.\n-Dave")
    assert found == {"Hamza": "name"}
    assert kinds("Run fetchmail --mda and xclip -selection.") == {"--mda": "command", "-selection": "command"}
    assert kinds("Brad Clements wrote. New York agreed.") == {"Brad Clements": "name", "New York": "name"}


def test_a_lists_numbering_is_not_a_fact():
    assert kinds("Points:\n1. Leaders are 3 times richer.\n 2) Nobody cares.\nIn 1998 it rose.") == {
        "3": "number",
        "1998": "number",
    }


@pytest.mark.parametrize(
    "fact_text, rewrite",
    [
        ("It cost $1,299.", "The price was 1299 dollars."),
        ("It cost $1,299.", "The price was $1299."),
        ("Seen on 3 March.", "It was seen on March 3."),
        ("A 40GB disk.", "A 40 GB disk."),
        ("See http://www.easyspace.com/ now.", "The site is www.easyspace.com."),
        ("We met Brad Clements there.", "Clements, Brad was there."),
        ("The box had 3 disks.", "The box had three disks."),
        ("Call (315)268-1000 now.", "The number is 315-268-1000."),
        ("It cost $2k.", "The price was $2,000."),
        ("It cost $23K a year.", "It cost 23000 dollars a year."),
        ("Raised $1.5 million.", "They raised $1,500,000."),
    ],
)
def test_matching_is_normalised(fact_text, rewrite):
    assert missing(inventory(fact_text), rewrite) == []


@pytest.mark.parametrize(
    "fact_text, rewrite",
    [
        ("It cost $1,299.", "The price was 129 dollars."),
        ("The box had 3 disks.", "The box had 30 disks."),
        ("See http://www.easyspace.com/ now.", "The site is easyspace."),
        ("Seen on 3 March.", "It was seen in March."),
        ("It cost $2k.", "The price was $2,000,000."),
        ("It cost $2k.", "The price was 2,000 pounds."),
    ],
)
def test_a_changed_or_dropped_fact_is_missing(fact_text, rewrite):
    assert len(missing(inventory(fact_text), rewrite)) == 1


def test_a_new_price_is_invented_even_where_the_article_has_no_number():
    article = "I registered mine through http://www.easyspace.com/ - works out about a pound a week. TimC"
    rewrite = "The author, Bill, suggests EasySpace for $8.95 per month. TimC agrees."
    assert [f.text for f in invented(rewrite, article)] == ["$8.95", "Bill"]
    assert invented("TimC registered at www.easyspace.com, about a pound a week.", article) == []


def test_the_same_amount_written_otherwise_is_not_invented():
    assert invented("The author paid $20,000 for it.", "Paid $20k for it.") == []
    assert [f.text for f in invented("The author paid $25,000 for it.", "Paid $20k for it.")] == ["$25,000"]


def test_the_words_between_two_quotations_are_not_a_quotation():
    assert kinds('The "Esc" key puts you into a "mode" now.') == {'"Esc"': "quoted", '"mode"': "quoted"}
