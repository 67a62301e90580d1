"""Machine-readable reasons a row is quarantined. Users group by these in SQL, so keep them stable."""

from enum import StrEnum


class Reason(StrEnum):
    # ingest: the record could not become a post
    UNPARSEABLE = "unparseable"  # not a message / not a JSON object / broken CSV row
    BAD_ENCODING = "bad_encoding"  # bytes that decode under no plausible charset
    MISSING_USER = "missing_user"
    BAD_DATE = "bad_date"  # missing or unparseable timestamp
    EMPTY_BODY = "empty_body"  # no text left (after cleaning, for mail)
    NO_PLAIN_TEXT = "no_plain_text"  # mail with no text/plain part (HTML only, attachments)
    OVERSIZE = "oversize"  # longer than ingest.max_chars
    DUPLICATE_ID = "duplicate_id"  # a post_id seen earlier in the dump
    AUTOMATED_SENDER = "automated_sender"  # feeds, bug trackers, commit mails, newsletters
    # curate: a post that is fine as input but not as a training article
    DUPLICATE_TEXT = "duplicate_text"  # same user posted the same text earlier
    TOO_SHORT = "too_short"  # fewer than curate.min_words
    TOO_LONG = "too_long"  # more than curate.max_words
    NEWSLETTER = "newsletter"  # subscription wording in the last lines: a mailing, not a person's post
    NEAR_DUPLICATE = "near_duplicate"  # a later near-copy (MinHash, curate.near_duplicate_threshold)
    TOO_FEW_POSTS = "too_few_posts"  # user keeps fewer than curate.min_posts_per_user articles
