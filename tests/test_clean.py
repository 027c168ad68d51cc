"""The clean stage: boilerplate goes, every article line survives byte for byte."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from borderwatch.clean import REASONS, RULES, clean_document, parse_rules, strip_boilerplate
from borderwatch.clean.chrome import CHROME_REASONS
from borderwatch.clean.rules import RULE_REASONS
from borderwatch.errors import CleanError, ConfigError
from borderwatch.models import Document, RemovedSpan

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_27b3de6de7ba2833.txt"
DATA = Path(__file__).resolve().parents[1] / "src" / "borderwatch" / "data" / "boilerplate.toml"

LEAD = (
    "Border guards in the north of the country reported a convoy of armoured vehicles moving "
    "along the river road late on Tuesday, according to a statement from the regional command.\n"
    "The convoy stopped short of the crossing point and turned back before dawn, the statement "
    "said, adding that patrols along the frontier had been doubled as a precaution.\n"
)
TAIL = (
    "Local officials said schools near the frontier would stay open and that residents should "
    "follow the usual instructions from the civil defence service.\n"
    "Analysts expect further movements in the area once the spring thaw ends and the ground "
    "hardens enough for heavy equipment.\n"
)

MUST_SURVIVE = [
    "The EU pledged 50 million euros in support for Ukraine's border guards.",
    "Officials reminded residents to carry documents.",
    "Belarus is reliant on Russia for financial support.",
    "Readers of the regional paper wrote in to complain about the closure of the crossing.",
    "The ministry said it would donate 20 ambulances to hospitals near the frontier.",
    "Monthly payments to reservists rose to $300 per month, the defence minister said.",
    "Subscribers to the state broadcaster were told the evening bulletin would move to noon.",
    "Members of parliament voted to extend the state of emergency for another 30 days.",
    "Continue reading the statement, the spokesman told reporters, and you will see no threat.",
    "The newsletter of the veterans' association called on the government to act.",
    "He asked supporters to share the petition with friends before Friday's deadline.",
    "Farmers near the frontier can claim up to €10,000 a month in compensation for lost harvests.",
    "By signing the accord, both governments agreed to withdraw their troops from the villages.",
    "Quality journalism costs money, the head of the journalists' union said at the hearing.",
    "Thank you for your support, the mayor told volunteers who had raised $5,000 for the shelter.",
    "Help us keep our children safe, the mothers of conscripts wrote in an open letter.",
    "Dear friends, we will not give up, the opposition leader told supporters at the rally.",
    "Residents were asked to install the civil defence app to receive air-raid alerts on their phones.",
    "Subscribers can unsubscribe from the text alerts at any time, the emergency service said.",
    "The privacy policy of the border agency's new app was criticised by rights groups.",
]


def reconstruct(text: str, spans: list[RemovedSpan]) -> tuple[str, str]:
    """The kept text and the removed text, computed independently of the cleaner."""
    kept, removed, pos = [], [], 0
    for span in spans:
        kept.append(text[pos:span.start])
        removed.append(text[span.start:span.end])
        pos = span.end
    kept.append(text[pos:])
    return "".join(kept), "".join(removed)


def assert_consistent(text: str, clean: str, spans: list[RemovedSpan]) -> None:
    """Spans are sorted, disjoint, whole lines; cutting them out gives the clean text."""
    previous_end = 0
    for span in spans:
        assert previous_end <= span.start < span.end <= len(text)
        assert span.reason in REASONS
        assert span.start == 0 or text[span.start - 1] == "\n"
        assert span.end == len(text) or text[span.end - 1] == "\n"
        previous_end = span.end
    kept, removed = reconstruct(text, spans)
    assert kept.rstrip() == clean
    assert len("".join(clean.split())) + len("".join(removed.split())) == len("".join(text.split()))
    remaining = iter(text.splitlines())
    assert all(line in remaining for line in clean.splitlines()), "a kept line was altered"


def removed_texts(text: str, spans: list[RemovedSpan]) -> list[tuple[str, str]]:
    return [(text[s.start:s.end].strip(), s.reason) for s in spans]


# --- the pattern file -------------------------------------------------------------------------


def test_packaged_rules_cover_every_kind_and_reason() -> None:
    reasons = {r.reason for kind in (RULES.block_starter, RULES.ui_fragment, RULES.paragraph,
                                     RULES.list_heading, RULES.page_line) for r in kind}
    assert reasons == RULE_REASONS
    assert REASONS == RULE_REASONS | CHROME_REASONS
    assert 0 < RULES.tail_start < RULES.min_appeal_share < 1


GOOD = DATA.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("[[ui_fragment]\nreason = 1", "not valid TOML"),
        (GOOD.replace("pattern = '(continue|", "pattern = '((continue|", 1), "bad regular expr"),
        (GOOD.replace('reason = "ui-fragment"', 'reason = "junk"', 1), "unknown reason"),
        (GOOD.replace('reason = "ui-fragment"\n', "", 1), "exactly the keys"),
        (GOOD.replace("tail_start = 0.25", "tail_start = 2.5"), "limits.tail_start"),
        (GOOD.replace("max_list_items = 10", "max_list_items = 0"), "limits.max_list_items"),
        (GOOD.replace("max_list_items = 10\n", ""), "[limits] needs exactly"),
        (GOOD.replace("[appeal_vocabulary]\nterms", "[appeal_vocabulary]\nwords"),
         "appeal_vocabulary"),
        (GOOD.replace("[[list_heading]]", "[[list_header]]"), "unknown sections"),
        (GOOD.replace("[prose_markers]\nterms", "[prose_markers]\nwords"), "prose_markers"),
        (GOOD.replace("'said|", "'(said|", 1), "prose_markers term #1"),
        (GOOD + "\n[[block_starter]]\nreason = 'membership'\npattern = ''\n", "non-empty"),
    ],
)
def test_malformed_pattern_file_is_a_config_error(broken: str, message: str) -> None:
    assert broken != GOOD
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        parse_rules(broken, "patterns.toml")
    assert info.value.source == "patterns.toml"


def test_packaged_file_parses_to_the_loaded_rules() -> None:
    assert parse_rules(GOOD, str(DATA)) == RULES


# --- appeal blocks at the end -----------------------------------------------------------------

APPEAL = (
    "A Message from The Border Herald:\n"
    "Dear readers,\n"
    "Our newsroom has been labelled a hostile organisation and our reporters face fines for "
    "doing their jobs.\n"
    "Independent journalism in the region depends on readers like you. Your support, even a "
    "small contribution of €3 per month, keeps our reporters in the field.\n"
    "Once\nMonthly\nAnnual\nContinue\n"
    "Not ready to donate today?\n"
    "Remind me later.\n×\nRemind me next month\n"
    "Thank you! Your reminder is set.\n"
)


@pytest.mark.parametrize(
    ("starter", "reason"),
    [
        ("A Message from The Border Herald:", "donation-appeal"),
        ("A note from our editors:", "donation-appeal"),
        ("Dear readers,", "donation-appeal"),
        ("Dear friends, good reporting takes time and money.", "donation-appeal"),
        ("Independent journalism is not free.", "donation-appeal"),
        ("Thanks for reading!", "donation-appeal"),
        ("Please help us to keep our coverage open to all.", "donation-appeal"),
        ("Support independent journalism", "donation-appeal"),
        ("Become a member", "membership"),
        ("Sign up for our weekly Borders newsletter", "newsletter"),
        ("Subscribe to the Evening Digest", "newsletter"),
        ("Receive our Frontline Bulletin", "newsletter"),
    ],
)
def test_appeal_block_is_removed_to_the_end(starter: str, reason: str) -> None:
    appeal = APPEAL.replace("A Message from The Border Herald:", starter)
    text = LEAD + TAIL + appeal
    clean, spans = strip_boilerplate(text)
    assert clean == (LEAD + TAIL).rstrip()
    assert spans == [RemovedSpan(len(LEAD + TAIL), len(text), reason)]
    assert_consistent(text, clean, spans)


@pytest.mark.parametrize(
    ("box", "reason"),
    [
        ("Subscribe to our evening bulletin\n"
         "Five stories from the frontier, delivered to your inbox at 6 p.m.\n"
         "Email address\nSign up now\n"
         "By subscribing, you agree to our terms of service and privacy notice.\n"
         "Unsubscribe at any time.\n", "newsletter"),
        ("Get the Weekend Digest\n"
         "The week's best reads, free in your inbox every Saturday.\n"
         "Type your email here\nSubscribe\n", "newsletter"),
        ("Our site uses cookies to measure traffic and personalise ads.\n"
         "By selecting “Allow all”, you consent to cookies being stored on your device.\n"
         "Cookie settings\nAllow all\nNecessary only\nRefuse optional cookies\n", "cookie-notice"),
        ("Install the free mobile app\n"
         "Push notifications for every big story, on your smartphone.\n"
         "Download it on the App Store or from Google Play.\n", "app-promotion"),
        ("Help us stay independent\n"
         "Our journalists are paid by readers, not advertisers. If you value what we do, "
         "please chip in.\n"
         "$5\n$15 a month\nUS$50\n100 EUR\nDonate ₹250\nGive annually\nNo thanks\n", "donation-appeal"),
    ],
)
def test_kinds_of_boxes_are_removed_to_the_end(box: str, reason: str) -> None:
    """A box's first line opens a block; its sentences, buttons and fields go with it."""
    text = LEAD + TAIL + "\n" + box
    clean, spans = strip_boilerplate(text)
    assert clean == (LEAD + TAIL).rstrip()
    assert [s.reason for s in spans] == [reason]
    assert_consistent(text, clean, spans)


def test_separator_above_an_appeal_goes_with_it() -> None:
    for separator in ("---", "* * *", "____"):
        text = LEAD + TAIL + "\n" + separator + "\n\n" + APPEAL.replace(
            "A Message from The Border Herald:", "One more thing...")
        clean, spans = strip_boilerplate(text)
        assert clean == (LEAD + TAIL).rstrip()
        assert [text[s.start:s.end].split("\n")[0] for s in spans] == [separator]


def test_separator_in_the_story_is_kept() -> None:
    text = LEAD + "* * *\n" + TAIL
    clean, spans = strip_boilerplate(text)
    assert spans == []
    assert clean == text.rstrip()


def test_trailing_run_of_buttons_takes_unknown_buttons_along() -> None:
    text = LEAD + TAIL + "Share on Telegram\nPay by card\nDonate\n12 comments\n"
    clean, spans = strip_boilerplate(text)
    assert clean == (LEAD + TAIL).rstrip()
    assert removed_texts(text, spans) == [("Share on Telegram", "social-share"),
                                          ("Pay by card", "ui-fragment"),
                                          ("Donate", "donation-appeal"),
                                          ("12 comments", "ui-fragment")]
    assert_consistent(text, clean, spans)


def test_short_last_line_without_buttons_is_kept() -> None:
    for last in ("Reporting by Anna Kovalenko", "Kyiv, 3 September\nShare"):
        text = LEAD + TAIL + last + "\n"
        clean, _ = strip_boilerplate(text)
        assert clean.startswith((LEAD + TAIL + last.split("\n")[0]).rstrip())


def test_appeal_block_without_trailing_newline() -> None:
    text = LEAD + TAIL + APPEAL.rstrip("\n")
    clean, spans = strip_boilerplate(text)
    assert clean == (LEAD + TAIL).rstrip()
    assert spans[-1].end == len(text)


def test_starter_followed_by_article_text_is_not_a_block() -> None:
    """A quoted "message from" near the end must not take the story's last paragraphs with it."""
    text = LEAD + (
        "A message from the regional governor:\n"
        "The governor said in a televised address that evacuation buses would run from the "
        "three villages closest to the frontier, and that families could return once the army "
        "confirmed the area was safe.\n"
        "Army engineers began clearing the road to the crossing on Wednesday morning, working "
        "under floodlights to repair the damage left by last week's shelling of the bridge.\n"
    )
    clean, spans = strip_boilerplate(text)
    assert spans == []
    assert clean == text.rstrip()


def test_starter_at_the_top_is_not_a_block() -> None:
    """An appeal cannot start before the article has: nothing is cut from the beginning."""
    text = "Dear readers,\n" + APPEAL.split("\n", 2)[2] + LEAD
    clean, spans = strip_boilerplate(text)
    assert clean.startswith("Dear readers,\nOur newsroom")
    assert clean.endswith(LEAD.rstrip())
    removed = reconstruct(text, spans)[1].splitlines()
    assert all(len(line) <= RULES.max_fragment_chars for line in removed), "only UI lines go"


def test_story_about_donations_is_not_an_appeal() -> None:
    """A starter early in a story whose every line mentions money is the story, not an appeal."""
    text = (
        "Volunteers in a border town have collected donations for families displaced by the "
        "shelling of the villages along the river.\n"
        "A message from the organisers:\n"
        "“Every contribution, even $5, buys blankets and fuel for the winter,” the organisers "
        "wrote in a post that was shared thousands of times over the weekend.\n"
        "Readers of the local paper gave more than €40,000 in the first week, and monthly pledges "
        "now cover the rent of two shelters near the railway station.\n"
        "The regional administration said it would match each donation until the end of the "
        "year, and asked companies to support the drive with transport.\n"
    )
    assert text.index("A message") < RULES.tail_start * len(text)
    clean, spans = strip_boilerplate(text)
    assert spans == []
    assert clean == text.rstrip()


# --- single lines anywhere ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Continue", "ui-fragment"),
        ("Once", "ui-fragment"),
        ("Monthly", "ui-fragment"),
        ("Annual", "ui-fragment"),
        ("Remind me later.", "ui-fragment"),
        ("Remind me next month", "ui-fragment"),
        ("×", "ui-fragment"),
        ("Close", "ui-fragment"),
        ("Thank you! Your reminder is set.", "ui-fragment"),
        ("Advertisement", "ui-fragment"),
        ("12 comments", "ui-fragment"),
        ("Share", "social-share"),
        ("Share on Telegram", "social-share"),
        ("Enjoyed this story? Share it with your colleagues!", "social-share"),
        ("Follow us on Telegram for live updates from the border.", "social-share"),
        ("Read more", "read-more-list"),
        ("Read more: Guards detain smugglers at the river crossing", "read-more-list"),
        ("Subscribe", "newsletter"),
        ("The Frontier Briefing newsletter", "newsletter"),
        ("Sign up for our free morning newsletter and never miss a story.", "newsletter"),
        ("Accept all cookies", "cookie-notice"),
        ("We use cookies to give you the best experience on our site. Read our policy.",
         "cookie-notice"),
        ("Download our app to get alerts on breaking news.", "app-promotion"),
        ("Our reporting is also available on the App Store and Google Play.", "app-promotion"),
        ("Become a member and read without limits.", "membership"),
        ("Already a subscriber? Log in here.", "membership"),
        ("Please support our journalism with a one-off gift.", "donation-appeal"),
        ("€20", "ui-fragment"),
        ("£3 per month", "ui-fragment"),
        ("Contribute $100", "ui-fragment"),
        ("50 euros monthly", "ui-fragment"),
        ("Give monthly", "donation-appeal"),
        ("Donate once", "donation-appeal"),
        ("Enter your email address", "newsletter"),
        ("Your email", "newsletter"),
        ("You can unsubscribe with one click.", "newsletter"),
        ("By registering, you accept our terms and privacy policy.", "newsletter"),
        ("By continuing to scroll, you agree to our use of cookies.", "cookie-notice"),
        ("Accept all", "cookie-notice"),
        ("Reject all non-essential cookies", "cookie-notice"),
        ("Customise preferences", "cookie-notice"),
        ("Privacy settings", "cookie-notice"),
    ],
)
def test_boilerplate_line_is_removed_mid_article(line: str, reason: str) -> None:
    text = LEAD + line + "\n" + TAIL
    clean, spans = strip_boilerplate(text)
    assert removed_texts(text, spans) == [(line, reason)]
    assert clean == (LEAD + TAIL).rstrip()
    assert_consistent(text, clean, spans)


def test_related_list_removes_heading_and_headlines_only() -> None:
    headlines = (
        "Related articles\n"
        "Guards detain smugglers at the river crossing\n"
        "Why the northern frontier matters to Kyiv\n"
        "Drone sightings rise along the border?\n"
    )
    text = LEAD + headlines + TAIL
    clean, spans = strip_boilerplate(text)
    assert removed_texts(text, spans) == [(headlines.strip(), "read-more-list")]
    assert clean == (LEAD + TAIL).rstrip()
    assert_consistent(text, clean, spans)


@pytest.mark.parametrize("heading", ["Read more:", "See also", "More on this story", "Also read:"])
def test_read_more_heading_takes_its_headlines(heading: str) -> None:
    headlines = heading + "\n› Guards detain smugglers at the river crossing\n- Why the frontier matters\n"
    text = LEAD + TAIL + headlines
    clean, spans = strip_boilerplate(text)
    assert clean == (LEAD + TAIL).rstrip()
    assert [s.reason for s in spans] == ["read-more-list"]


def test_related_list_is_bounded() -> None:
    items = "".join(f"Headline number {i} about the border\n" for i in range(15))
    text = LEAD + "You may also like:\n" + items + TAIL
    clean, spans = strip_boilerplate(text)
    kept_items = [line for line in clean.splitlines() if line.startswith("Headline number")]
    assert kept_items == [f"Headline number {i} about the border"
                          for i in range(RULES.max_list_items, 15)]
    assert [s.reason for s in spans] == ["read-more-list"]


# --- article text survives --------------------------------------------------------------------


@pytest.mark.parametrize("sentence", MUST_SURVIVE)
def test_article_sentence_mentioning_money_or_support_survives(sentence: str) -> None:
    text = LEAD + sentence + "\n" + TAIL
    clean, spans = strip_boilerplate(text)
    assert spans == []
    assert clean == text.rstrip()


def test_article_sentences_survive_as_last_lines_too() -> None:
    text = LEAD + TAIL + "\n".join(MUST_SURVIVE) + "\n"
    clean, spans = strip_boilerplate(text)
    assert spans == []
    assert clean == text.rstrip()


# --- offsets ----------------------------------------------------------------------------------


def test_offsets_reconstruct_the_original_with_mixed_boilerplate() -> None:
    text = (
        "Share\n\n" + LEAD + "\nWe use cookies on this site.\n\n"
        "Read more: Guards detain smugglers at the river crossing\n"
        + TAIL.replace("\n", "\r\n") + "Advertisement\n" + "\n".join(MUST_SURVIVE[:3]) + "\n"
        + APPEAL + "\n\n  "
    )
    clean, spans = strip_boilerplate(text)
    assert [s.reason for s in spans] == ["social-share", "cookie-notice", "read-more-list",
                                         "ui-fragment", "donation-appeal"]
    assert_consistent(text, clean, spans)
    for line in (LEAD + TAIL).splitlines() + MUST_SURVIVE[:3]:
        assert line in clean
    assert "Share" not in clean.splitlines()
    assert "cookies" not in clean


def test_blank_lines_after_a_removed_line_go_with_it() -> None:
    text = "First paragraph of the story.\n\nShare\n\nSecond paragraph of the story."
    clean, spans = strip_boilerplate(text)
    assert clean == "First paragraph of the story.\n\nSecond paragraph of the story."
    assert text[spans[0].start:spans[0].end] == "Share\n\n"


# --- documents ----------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html lang="en"><head><title>Troops seen near the river crossing</title></head>
<body>
<header><nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
</header>
<main><article>
<h1>Troops seen near the river crossing</h1>
<p>Border guards in the north of the country reported a convoy of armoured vehicles moving
along the river road late on Tuesday, according to a statement from the regional command.</p>
<p>The convoy stopped short of the crossing point and turned back before dawn, the statement
said, adding that patrols along the frontier had been doubled as a precaution.</p>
<p>Sign up for our free morning newsletter and never miss a story.</p>
<p>Local officials said schools near the frontier would stay open and that residents should
follow the usual instructions from the civil defence service.</p>
<p>Analysts expect further movements in the area once the spring thaw ends and the ground
hardens enough for heavy equipment.</p>
</article></main>
<aside class="newsletter-box"><h3>Get the Frontier Briefing</h3>
<p>Enter your email address to receive our daily digest of border news.</p>
<form><input type="email"><button>Subscribe</button></form></aside>
<footer><p>© 2024 The Example Gazette. All rights reserved.</p>
<p>Privacy policy | Terms of use | Contact us</p></footer>
</body></html>
"""


def test_html_main_text_is_extracted_and_filtered() -> None:
    doc = clean_document(Document(source="page.html", raw_text=HTML, is_html=True))
    lines = doc.clean_text.splitlines()
    for expected in ("Border guards in the north", "The convoy stopped short",
                     "Local officials said", "Analysts expect further"):
        assert sum(line.startswith(expected) for line in lines) == 1
    for furniture in ("Home", "Sport", "Enter your email", "Frontier Briefing", "rights reserved",
                      "Privacy policy", "newsletter"):
        assert furniture not in doc.clean_text
    assert [r.reason for r in doc.removed] == ["newsletter"]
    assert doc.raw_text == HTML


@pytest.mark.parametrize(
    "html",
    ["", "<html><body></body></html>",
     "<html><body><nav><a href='/'>Home</a></nav><script>var x = 1;</script></body></html>"],
)
def test_html_without_text_is_a_clean_error(html: str) -> None:
    with pytest.raises(CleanError) as info:
        clean_document(Document(source="empty.html", raw_text=html, is_html=True))
    assert info.value.source == "empty.html"
    assert info.value.stage == "clean"


def test_text_that_is_all_boilerplate_is_a_clean_error() -> None:
    with pytest.raises(CleanError, match="boilerplate"):
        clean_document(Document(source="buttons.txt", raw_text="Share\nSubscribe\nClose\n"))


def test_plain_text_document_is_filled_in_place() -> None:
    doc = Document(source="story.txt", raw_text=LEAD + TAIL + APPEAL)
    assert clean_document(doc) is doc
    assert doc.clean_text == (LEAD + TAIL).rstrip()
    assert [r.reason for r in doc.removed] == ["donation-appeal"]
    assert doc.raw_text == LEAD + TAIL + APPEAL


# --- the seed article -------------------------------------------------------------------------


@pytest.mark.skipif(not SEED.is_file(), reason=f"seed article not found at {SEED}")
def test_seed_donation_appeal_is_removed_and_article_kept() -> None:
    text = SEED.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("A Message from"))
    article = "".join(lines[:first])
    doc = clean_document(Document(source=str(SEED), raw_text=text))
    assert doc.clean_text.splitlines() == article.splitlines()
    assert doc.clean_text == article.rstrip()
    assert len(doc.removed) == 1
    span = doc.removed[0]
    assert (span.start, span.end) == (len(article), len(text))
    assert span.reason == "donation-appeal"
    assert_consistent(text, doc.clean_text, doc.removed)


def test_control_characters_are_cut_out_with_their_offsets_in_the_input() -> None:
    """Hostile or broken text: a terminal escape that would clear an analyst's screen, a NUL that
    PostgreSQL would refuse. The rest of each line is kept exactly."""
    text = "Troops massed near Gomel\x1b[2J on Sunday.\x00\nBelarus denied it.\x07\n"
    clean, removed = strip_boilerplate(text)
    assert clean == "Troops massed near Gomel on Sunday.\nBelarus denied it."
    assert [text[s.start:s.end] for s in removed] == ["\x1b[2J", "\x00", "\x07"]
    assert {s.reason for s in removed} == {"control characters"}


def test_a_control_run_beside_a_removed_line_is_cut_and_spans_stay_disjoint() -> None:
    """Form feeds and file separators break lines like newlines: an escape right after one is on
    the next line, and is cut from there; no two removed spans overlap."""
    text = "Troops massed near Gomel.\nRemind me later\x0c\x1b[31mBelarus denied it.\x00\nKyiv said so.\n"
    clean, removed = strip_boilerplate(text)
    assert clean == "Troops massed near Gomel.\nBelarus denied it.\nKyiv said so."
    assert all(a.end <= b.start for a, b in itertools.pairwise(removed))
