"""Pupils' full names the register does not know: people named next to a pupil cue.

The register catches its own pupils; but a post can name a child from another school, a new
starter not yet exported from the MIS, or a register that is out of date ("Well done to our
Year 4 team: Amelia Jones, Tom Smith…"). So this module looks for capitalised First Last
(or First Middle Last) pairs in the same sentence as a cue that the people around are pupils:
a year group, "class", "pupil", "student", "our girls/boys", a team line-up, an age, "Star of the
Week". In running prose the first word must be a common first name (a list in the YAML file:
"Peak District" or "World War" next to "Year 9" is no pupil); a line that holds only names (a
line-up, a certificate) needs no list and takes its cue from the whole paragraph. Excluded,
because it is a person but not a pupil, or not a person:

* adults: a staff title (Mr/Mrs/Ms/Miss/Dr/Sir… the ``STAFF`` entity of the shared pipeline) or a
  role just before the name ("our caretaker John Hill", "author Michael Morpurgo", "by …");
* books, characters and writers: a list of well-known ones, or a reading cue just before
  ("reading Jane Eyre", "the novel …"), or the name in quotes or italics;
* places and venues: a gazetteer of UK towns that look like names ("Milton Keynes"), place
  prefixes ("St Albans") and venue words ("… Museum", "… Week").

It runs on the same spaCy pipeline as the wording rules (`postguard.text.nlp.build_nlp`), so a
statistical pipeline, when configured, changes nothing here: the rules decide. Word lists live in
`textnames.yaml` beside this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc, Span, Token

from postguard.names import fold
from postguard.text.nlp import NOT_NAMES, STAFF_TITLES, build_nlp

AGE = re.compile(r"\b(?:aged?\s+\d{1,2}|\d{1,2}[\s-]*years?[\s-]*old|under[\s-]?\d{1,2}s?)\b")
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
QUOTES = frozenset("\"'“”‘’*_«»")
NOT_PUPIL_ENTITIES = frozenset({"STAFF", "ORG", "YEAR_GROUP"})
LIST_WORDS = frozenset({"and", "&", ",", ":", ";", "-", "–", "—", "•", "*", "(", ")", "."})
ROLE_WINDOW = 3  # tokens before a name searched for an adult role or a reading cue


@dataclass(frozen=True)
class TextName:
    """A probable pupil's full name found by cues: character offsets and why it counts.

    `reason` quotes the cue ("Year 6", "team"), never the name, so it may be printed.
    """

    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class _Lists:
    pupil_cues: tuple[str, ...]
    adult_roles: frozenset[str]
    literature_cues: frozenset[str]
    works: frozenset[str]
    places: frozenset[str]
    place_first_words: frozenset[str]
    venue_last_words: frozenset[str]
    first_names: frozenset[str]


@cache
def _lists() -> _Lists:
    raw = yaml.safe_load(
        resources.files("postguard").joinpath("textnames.yaml").read_text(encoding="utf-8")
    )

    def folded(key: str) -> frozenset[str]:
        return frozenset(" ".join(fold(entry)[0].split()) for entry in raw[key])

    return _Lists(
        pupil_cues=tuple(sorted(folded("pupil_cues"), key=len, reverse=True)),
        adult_roles=folded("adult_roles"),
        literature_cues=folded("literature_cues"),
        works=folded("works"),
        places=folded("places"),
        place_first_words=folded("place_first_words"),
        venue_last_words=folded("venue_last_words"),
        first_names=frozenset(fold(raw["first_names"])[0].split()),
    )


def find_unknown_pupil_names(text: str) -> list[TextName]:
    """Every probable pupil's full name in `text` found by cues (see the module doc).

    Names the register knows are found here too when cued; callers that also match the
    register drop the overlap.
    """
    if not text.strip():
        return []
    doc = build_nlp()(text)
    lists = _lists()
    paragraphs = [0, *(m.end() for m in PARAGRAPH_BREAK.finditer(text)), len(text) + 1]
    hits: list[TextName] = []
    for run in _name_runs(doc):
        if _excluded(doc, run, lists):
            continue
        scope = run.sent
        if _names_only(scope, run):
            start = max(p for p in paragraphs if p <= run.start_char)
            end = min(p for p in paragraphs if p > run.start_char)
            scope = doc.char_span(start, min(end, len(text)), alignment_mode="expand") or scope
        elif _folded(run[0].text) not in lists.first_names:
            continue  # in prose, "World War" or "Peak District" next to "Year 9" is no pupil
        cue = _pupil_cue(scope, lists)
        if cue:
            hits.append(
                TextName(run.start_char, run.end_char, f"a person's name near the cue '{cue}'")
            )
    return hits


def _name_word(token: Token) -> bool:
    """A word that can be part of a person's name: capitalised (or a capitalised heading's
    upper case, as on certificates), not a stop word, title or everyday school word."""
    text = token.text
    if len(text) < 2 or not text.replace("'", "").replace("’", "").isalpha():
        return False
    if not (token.is_title or token.is_upper):
        return False
    lower = token.lower_
    if lower in STOP_WORDS or lower in NOT_NAMES or lower in STAFF_TITLES:
        return False
    return token.ent_type_ not in NOT_PUPIL_ENTITIES


def _name_runs(doc: Doc) -> list[Span]:
    """Runs of two or three name words (a hyphen joins double-barrelled surnames)."""
    runs: list[Span] = []
    i = 0
    while i < len(doc):
        if not _name_word(doc[i]):
            i += 1
            continue
        j = i + 1
        while j < len(doc):
            if _name_word(doc[j]):  # a line break is a token of its own: runs end there
                j += 1
            elif (
                doc[j].text == "-"
                and j + 1 < len(doc)
                and not doc[j - 1].whitespace_
                and not doc[j].whitespace_
                and _name_word(doc[j + 1])
            ):
                j += 2
            else:
                break
        words = [t for t in doc[i:j] if t.text != "-"]
        if 2 <= len(words) <= 3 and not (doc[i].is_upper and len(words) == 3):
            runs.append(doc[i:j])
        i = j
    return runs


def _folded(span: Span | str) -> str:
    text = span if isinstance(span, str) else span.text
    return " ".join(fold(text.replace("-", " "))[0].split())


def _excluded(doc: Doc, run: Span, lists: _Lists) -> bool:
    """Adults, books and places (see the module doc)."""
    words = _folded(run).split()
    name = " ".join(words)
    if name in lists.works or name in lists.places:
        return True
    if words[0] in lists.place_first_words or words[-1] in lists.venue_last_words:
        return True
    before = doc[max(run.sent.start, run.start - ROLE_WINDOW) : run.start]
    folded_before = _folded(before.text) if len(before) else ""
    for cue in (*lists.adult_roles, *lists.literature_cues):
        if re.search(rf"(?:^|\s){re.escape(cue)}$|(?:^|\s){re.escape(cue)}\s", folded_before):
            return True
    if run.start > 0 and doc[run.start - 1].lower_ in STAFF_TITLES:
        return True
    after = doc[run.end] if run.end < len(doc) else None
    opening = doc[run.start - 1] if run.start > 0 else None
    # a title in quotes or italics ("'Whoops-a-Daisy Angel'"); "O'Brien" is one token
    quoted = bool(opening and opening.text in QUOTES) or bool(after and after.text in QUOTES)
    return quoted or bool(after and after.lower_ in lists.venue_last_words)


def _names_only(sentence: Span, run: Span) -> bool:
    """Whether a sentence is a list of names (a line-up, a certificate's name line)."""
    rest = [t for t in sentence if not (run.start <= t.i < run.end)]
    return all(_name_word(t) or t.text in LIST_WORDS or t.is_space for t in rest)


def _pupil_cue(scope: Span, lists: _Lists) -> str | None:
    """The first pupil cue in `scope`, as written there, or None."""
    for ent in scope.ents:
        if ent.label_ == "YEAR_GROUP":
            return ent.text
    folded, origin = fold(scope.text)
    flat = " ".join(folded.split())
    age = AGE.search(folded)
    if age:
        return scope.text[origin[age.start()] : origin[age.end()]]
    for cue in lists.pupil_cues:
        if re.search(rf"(?<![\w-]){re.escape(cue)}(?![\w-])", flat):
            return cue
    return None
