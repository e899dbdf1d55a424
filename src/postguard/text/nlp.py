"""Builds the one spaCy pipeline every text check runs on.

The spaCy English models are not on PyPI (DESIGN.md §8), so the default pipeline is
`spacy.blank("en")` plus components of our own that give the rule packs the little structure
they need without a statistical model:

* sentence boundaries (the sentencizer, plus a break at every line break, because school posts
  are often lists and headlines without full stops): exceptions and context are judged per
  sentence;
* ``STAFF`` entities for titled adults ("Mrs Patel", "Mr Upton"), so that rules about an
  identifiable child never mistake a teacher for a pupil;
* ``YEAR_GROUP`` entities ("Year 6", "Y6", "Reception"), which are not names either;
* ``ORG`` entities: runs of capitalised words ending in a word that names a body or business
  ("Northbridge Council", "Blueline Coaches", "Cancer Research UK"), so that rules about
  criticism can see an organisation, and the NAME heuristic does not take its words for names;
* ``NAME`` entities: capitalised words that look like a first name. This is deliberately a
  cheap heuristic used only to decide whether a medical or SEN detail is *about someone*;
  full pupil names are matched against the register by another module.

When the trust configures a statistical model (`text.model`) it is loaded instead and the same
components are added to it, so the packs behave the same with or without it.
"""

from __future__ import annotations

import functools

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from postguard.errors import InputError

STAFF_TITLES: tuple[str, ...] = (
    "mr", "mrs", "miss", "ms", "mx", "dr", "mr.", "mrs.", "ms.", "mx.", "dr.", "sir", "dame",
    "prof", "prof.", "professor", "rev", "revd", "rev.", "reverend", "father", "canon", "coach",
    "madame", "mme", "monsieur", "señor", "señora", "herr", "frau", "lord", "lady", "councillor",
    "cllr", "cllr.", "pc", "sgt", "captain", "capt",
)

# Capitalised words that are common in school posts but are not first names. The NAME
# heuristic only needs to be good enough to tell "Amelia has asthma" from "Asthma Awareness Week"
# and "Our pupils"; a name missed here is still caught by the register cross-check.
NOT_NAMES: frozenset[str] = frozenset(
    [
        "january", "february", "march", "april", "may", "june", "july", "august", "september",
        "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
        "saturday", "sunday", "today", "tomorrow", "yesterday", "year", "years", "reception",
        "nursery", "ks1", "ks2", "ks3", "ks4", "eyfs", "sixth", "form", "class", "classes",
        "team", "school", "academy", "trust", "pupils", "pupil", "children", "child", "students",
        "student", "parents", "parent", "carers", "families", "staff", "teachers", "teacher",
        "head", "headteacher", "governors", "everyone", "anyone", "well", "congratulations",
        "thank", "thanks", "happy", "please", "huge", "big", "great", "well", "done", "good",
        "amazing", "fantastic", "brilliant", "english", "maths", "mathematics", "science", "pe",
        "re", "pshe", "rse", "music", "art", "history", "geography", "computing", "french",
        "spanish", "german", "drama", "dance", "design", "technology", "phonics", "reading",
        "writing", "spelling", "christmas", "easter", "diwali", "eid", "ramadan", "hanukkah",
        "passover", "vaisakhi", "holi", "lent", "advent", "halloween", "pride", "black", "month",
        "week", "day", "term", "half", "spring", "summer", "autumn", "winter", "sports", "sport",
        "football", "netball", "rugby", "cricket", "hockey", "athletics", "swimming", "choir",
        "orchestra", "band", "assembly", "trip", "visit", "uk", "england", "scotland", "wales",
        "britain", "london", "god", "jesus", "allah", "bible", "quran", "qur'an", "church",
        "mosque", "temple", "synagogue", "gurdwara", "council", "ofsted", "dfe", "nhs", "mp",
        "parliament", "government", "autism", "adhd", "asthma", "diabetes", "epilepsy",
        "dyslexia", "ehcp", "sen", "send", "covid", "remember", "don't", "do", "did", "does",
        "is", "are", "was", "were", "has", "have", "had", "will", "would", "can", "could",
        "should", "just", "also", "here", "there", "this", "that", "these", "those", "it", "its",
        "he", "she", "they", "we", "our", "your", "their", "his", "her",
    ]
)

# Tokens that, after a sentence-initial capitalised word, suggest the word is a person
# ("Amelia has...", "Sam, who..."); a sentence-initial capitalised word without them is more
# likely an ordinary word ("Pupils enjoyed...").
NAME_FOLLOWERS: frozenset[str] = frozenset(
    [
        "has", "have", "is", "was", "who", "and", ",", "(", "-", "in", "from", "'s", "’s",
        "needs", "uses", "takes", "will", "turned", "turns", "celebrates", "lives", "suffers",
        "struggles", "attends", "loves", "won", "did", "can", "had",
    ]
)

ORG_OR_EVENT_HEADS: frozenset[str] = frozenset(
    [
        "week", "day", "month", "year", "school", "academy", "college", "trust", "council",
        "street", "road", "lane", "avenue", "close", "park", "centre", "center", "club", "team",
        "hospital", "society", "award", "awards", "cup", "league", "festival", "fair", "show",
        "foundation", "charity", "service", "services", "association", "group", "church", "hall",
        "house", "university",
    ]
)


# The last word of a capitalised run that names an organisation ("Northbridge Gazette").
ORG_HEADS: tuple[str, ...] = (
    "council", "councils", "academy", "trust", "school", "college", "university", "primary",
    "high", "infants", "juniors", "coaches", "buses", "travel", "taxis", "transport", "ltd",
    "limited", "plc", "group", "company", "services", "service", "gazette", "news", "times",
    "post", "echo", "herald", "chronicle", "mail", "telegraph", "press", "advertiser",
    "observer", "express", "guardian", "radio", "tv", "department", "ministry", "agency",
    "authority", "partnership", "association", "society", "foundation", "charity", "research",
    "police", "constabulary", "nhs", "hospital", "surgery", "practice", "club", "fc", "utd",
    "united", "construction", "builders", "contractors", "developments", "homes", "estates",
    "catering", "caterers", "cleaning", "solutions", "systems", "network", "networks",
)


@Language.component("postguard_line_breaks")
def line_breaks(doc: Doc) -> Doc:
    """Start a new sentence after a line break: posts are often lines without full stops."""
    for i, token in enumerate(doc[:-1]):
        if "\n" in token.text_with_ws:
            doc[i + 1].is_sent_start = True
    return doc


def _looks_like_first_name(doc: Doc, i: int) -> bool:
    token = doc[i]
    if not (token.is_title and token.is_alpha and len(token) >= 2):
        return False
    if token.is_stop or token.lower_ in NOT_NAMES or token.ent_type_:
        return False
    prev_title = i > 0 and doc[i - 1].is_title and not doc[i - 1].is_sent_start
    nxt = doc[i + 1] if i + 1 < len(doc) else None
    # a run of capitalised words ending in "Week", "Council", "Academy" names an event or body
    run_end = i
    while run_end + 1 < len(doc) and doc[run_end + 1].is_title:
        run_end += 1
    if doc[run_end].lower_ in ORG_OR_EVENT_HEADS or run_end - i >= 2:
        return False
    if token.is_sent_start and not prev_title:
        return nxt is not None and nxt.lower_ in NAME_FOLLOWERS
    return True


@Language.component("postguard_name_candidates")
def name_candidates(doc: Doc) -> Doc:
    """Mark capitalised words that look like first names as ``NAME`` entities (see module doc)."""
    spans = [
        Span(doc, i, i + 1, label="NAME") for i in range(len(doc)) if _looks_like_first_name(doc, i)
    ]
    if spans:
        doc.ents = filter_spans([*doc.ents, *spans])
    return doc


def _ruler_patterns() -> list[dict[str, object]]:
    title = {"LOWER": {"IN": list(STAFF_TITLES)}}
    word = {"IS_TITLE": True, "IS_ALPHA": True}
    proper = {"IS_TITLE": True, "IS_STOP": False, "LOWER": {"NOT_IN": list(STAFF_TITLES)}}
    head = {"LOWER": {"IN": list(ORG_HEADS)}, "IS_UPPER": False}
    return [
        {"label": "ORG", "pattern": [{**proper, "OP": "+"}, head, {"IS_UPPER": True, "OP": "?"}]},
        {"label": "ORG", "pattern": [{**proper, "OP": "+"}, head, {"LOWER": {"IN": ["uk"]}}]},
        {"label": "STAFF", "pattern": [title, {**word, "OP": "+"}]},
        {"label": "STAFF", "pattern": [title, {"IS_TITLE": True, "OP": "+"}]},
        {"label": "YEAR_GROUP", "pattern": [{"LOWER": "year"}, {"IS_DIGIT": True}]},
        {"label": "YEAR_GROUP", "pattern": [{"LOWER": "year"}, {"LOWER": "r"}]},
        {"label": "YEAR_GROUP", "pattern": [{"LOWER": {"REGEX": r"^(y|yr)\d{1,2}$"}}]},
        {"label": "YEAR_GROUP", "pattern": [{"LOWER": {"REGEX": r"^ks[1-5]$"}}]},
        {
            "label": "YEAR_GROUP",
            "pattern": [{"LOWER": "key"}, {"LOWER": "stage"}, {"IS_DIGIT": True}],
        },
        {"label": "YEAR_GROUP", "pattern": [{"LOWER": {"IN": ["reception", "nursery", "eyfs"]}}]},
        {"label": "YEAR_GROUP", "pattern": [{"LOWER": "sixth"}, {"LOWER": "form"}]},
    ]


@functools.cache
def build_nlp(model: str | None = None) -> Language:
    """The shared pipeline for `model` (None: blank English), built once per process.

    Building takes a noticeable fraction of a second, and the audit runs thousands of posts,
    hence the cache; callers must treat the returned pipeline as read-only.
    """
    if model is None:
        nlp = spacy.blank("en")
    else:
        try:
            nlp = spacy.load(model)
        except OSError:
            raise InputError("text.model", f"spaCy model '{model}' is not installed") from None
    if "parser" in nlp.pipe_names:
        nlp.add_pipe("postguard_line_breaks", before="parser")
    else:
        if "senter" not in nlp.pipe_names:
            nlp.add_pipe("sentencizer")
        nlp.add_pipe("postguard_line_breaks")
    ruler_opts = {"before": "ner"} if "ner" in nlp.pipe_names else {}
    ruler = nlp.add_pipe("entity_ruler", name="postguard_entities", **ruler_opts)
    ruler.add_patterns(_ruler_patterns())  # type: ignore[attr-defined]
    nlp.add_pipe("postguard_name_candidates")
    return nlp
