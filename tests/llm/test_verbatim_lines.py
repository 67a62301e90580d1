"""Header, link and closing lines leave the prose the model rewrites and come back framed as they
are; prose is never taken for a closing block."""

from llm.fact_inventory import inventory, missing
from llm.faithful_rewrite import chunk_items
from llm.verbatim_lines import LINK, frame_links, split_post

POST = """Forwarded-by: Per Hammer <perh@inrs.co.uk>

The MP will spend the day at the brothel, the BBC says. More at
   http://news.bbc.co.uk/1/hi/world/2218715.stm
and in the local papers.

Cheers,
-James Rogers
 jamesr@best.com"""


def test_head_links_and_closing_block_are_framed_and_their_facts_kept():
    post = split_post(POST)
    assert post.head == "Forwarded-by: Per Hammer <perh@inrs.co.uk>"
    assert post.tail == "Ends with: James Rogers; jamesr@best.com"  # "Cheers," is style: dropped
    assert post.links == ("http://news.bbc.co.uk/1/hi/world/2218715.stm",)
    assert "More at" in post.body and "local papers." in post.body and "Cheers" not in post.body
    prose, framed = frame_links(post.body, list(post.links))
    assert LINK not in prose and framed == ["Link: http://news.bbc.co.uk/1/hi/world/2218715.stm"]
    text = "\n".join([post.head, prose, *framed, post.tail])
    assert [f.text for f in missing(inventory(POST), text)] == []  # no fact of the post lost on the way


def test_prose_is_not_taken_for_a_closing_block():
    # a short last line that ends an unfinished sentence, and a list item, stay prose
    post = split_post("I asked whether the patch\nreally works\n\n- Fix the build\n- Ship it")
    assert post.tail == "" and post.body.endswith("- Ship it")
    post = split_post("It works.\n\nWorks for me, see you all soon")
    assert post.tail == ""
    post = split_post("It works.\nConor")
    assert post.tail == "Ends with: Conor" and post.body == "It works."


def test_a_footer_below_a_separator_is_framed():
    post = split_post("Thanks for the tip.\n____________\nDo You Yahoo!? Mail : http://fr.mail.yahoo.com")
    assert post.body == "Thanks for the tip." and post.tail.endswith("http://fr.mail.yahoo.com")


def test_only_prose_goes_to_the_model_and_framed_parts_keep_their_order():
    parts = chunk_items([{"id": "p", "text": POST, "title": "t"}], 80, frame=True)
    assert [bool(p["text"]) for p in parts] == [False, True, False]  # head, prose, closing block
    prose = parts[1]
    assert prose["verbatim"] == ["Link: http://news.bbc.co.uk/1/hi/world/2218715.stm"]
    assert "http" not in prose["text"] and "James" not in prose["text"]
    assert "jamesr@best.com" in parts[2]["_verbatim_facts"] and "jamesr@best.com" not in prose["facts"]
    unframed = chunk_items([{"id": "p", "text": POST, "title": "t"}], 80)
    assert all(not p["verbatim"] for p in unframed) and "jamesr@best.com" in unframed[-1]["text"]
