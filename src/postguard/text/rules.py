"""The text rule engine: one generic engine, the policy knowledge lives in YAML packs.

Each pack in ``packs/`` holds the rules for one category (schema at the top of every pack).
Bare word lists are near chance at telling biased from neutral text (DESIGN.md §8), so a rule
is more than a list: it matches token patterns, phrases, regexes or obfuscation-tolerant words;
it may be cancelled by exceptions in the same sentence, may require something else in the same
sentence (a medical term only matters *about someone*; ``scope: post`` widens both to the whole
post), and its severity is lowered by generic
context: a quotation or attribution ("the DfE announced"), a negation, a question, or a
curriculum setting ("mock election", "pupils debated"). The cue lists for that context are in
``packs/_context.yaml`` so that a trust can read and tune them like the rules.

Everything is compiled once per spaCy pipeline and reused for every post: an audit runs
thousands of posts through the same rules.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from postguard.clauses import CLAUSES
from postguard.config import Config
from postguard.errors import InputError
from postguard.findings import Finding, Location, Severity, TextSpan
from postguard.text.nlp import build_nlp
from postguard.text.semantic import EXEMPLAR_DIR, ORDINARY, Verdict, classify, worth_embedding

PACK_DIR = Path(__file__).parent / "packs"
CONTEXT_FILE = PACK_DIR / "_context.yaml"
TEXT_CATEGORIES: tuple[str, ...] = (
    "political", "personal_view", "non_neutral", "offensive", "attack", "pupil_data",
)
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
CONTEXT_KINDS: tuple[str, ...] = ("quote", "attribution", "negation", "question", "curriculum")
# What a context does to a match: lower by one step, record as info, drop it, or nothing.
CONTEXT_ACTIONS: tuple[str, ...] = ("lower", "info", "drop", "ignore")
DEFAULT_CONTEXT: dict[str, str] = {
    "quote": "lower", "attribution": "lower", "negation": "lower", "question": "lower",
    "curriculum": "drop",
}
TRIGGER_KEYS: tuple[str, ...] = ("patterns", "phrases", "regex", "words", "entities")
RULE_KEYS: frozenset[str] = frozenset({
    "id", "severity", "clause", "message", "explanation", "suggestion", "exceptions",
    "requires", "mitigations", "context", "examples", "scope", "similar", *TRIGGER_KEYS,
})
SIMILAR_KEYS: frozenset[str] = frozenset({"examples", "min_similarity", "margin"})
# Where a rule looks for its exceptions and requirements: the sentence of the match (default),
# or the whole post ("travellers have moved onto the field" ... "keep your cars locked").
SCOPES: tuple[str, ...] = ("sentence", "post")
PACK_KEYS: frozenset[str] = frozenset({"category", "clause", "defaults", "terms", "rules"})
DEFAULT_KEYS: frozenset[str] = frozenset({"severity", "context", "suggestion"})

# Obfuscation-tolerant words: what each letter may be written as (besides itself), and the
# masking characters that may stand for any letter after the first ("f**k", "sh*t").
LEET: dict[str, str] = {
    "a": "@4", "b": "8", "c": "(", "e": "3", "g": "9", "i": "1!|", "l": "1|", "o": "0",
    "s": "$5", "t": "7+", "u": "v", "z": "2",
}
MASKS = "*#%"
QUOTED = re.compile(
    r"“[^”\n]*”|\"[^\"\n]*\"|(?<![^\W_])‘[^’\n]*’(?![^\W_])|(?<![^\W_])'[^'\n]{2,300}'(?![^\W_])"
)
ORDER: tuple[Severity, ...] = (Severity.ERROR, Severity.WARNING, Severity.INFO)
MAX_SENTENCES = 1000  # distinct sentences the learned rules read per text


@dataclass(frozen=True)
class Trigger:
    """What can be looked for in a post: the match of a rule, or its exceptions/requirements.

    patterns: spaCy Matcher token patterns; phrases: matched on lower case token by token;
    regex: Python regexes (case-insensitive; a group named ``hit`` narrows the reported span);
    words: whole words, tolerant of obfuscation; entities: entity labels from nlp.py.
    """

    patterns: tuple[list[dict[str, Any]], ...] = ()
    phrases: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.patterns or self.phrases or self.regex or self.words or self.entities)


@dataclass(frozen=True)
class Similar:
    """A learned match: sentences whose closest examples (``exemplars/<examples>.yaml``) are at
    least `min_similarity` similar and `margin` more similar than the ordinary examples."""

    examples: str
    min_similarity: float
    margin: float

    def accepts(self, verdict: Verdict) -> bool:
        return (verdict.label == self.examples and verdict.score >= self.min_similarity
                and verdict.score - verdict.ordinary >= self.margin)


@dataclass(frozen=True)
class Examples:
    """Sentences the rule must fire on and must pass; tested, and shown by `rules explain`."""

    fire: tuple[str, ...] = ()
    passes: tuple[str, ...] = ()


@dataclass
class Rule:
    """One rule of a pack, as loaded from YAML (see the schema at the top of any pack)."""

    id: str
    category: str
    severity: str
    clause: str
    message: str
    explanation: str
    suggestion: str | None
    match: Trigger
    exceptions: Trigger = field(default_factory=Trigger)
    requires: Trigger = field(default_factory=Trigger)
    mitigations: Trigger = field(default_factory=Trigger)
    context: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CONTEXT))
    examples: Examples = field(default_factory=Examples)
    scope: str = "sentence"
    similar: Similar | None = None
    source: str = ""


@dataclass(frozen=True)
class ContextCues:
    """The shared cue lists from ``_context.yaml`` that tell the generic contexts apart."""

    attribution: Trigger
    curriculum: Trigger
    negation: frozenset[str]
    negation_window: int


# ---------------------------------------------------------------------------------------------
# Loading and validating packs


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: packs load 5x faster


class _PackLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """YAML 1.1 reads bare on/off/yes/no as booleans, but in a pack they are words to match
    ("join us on the picket line"); only true/false are booleans here."""


_PackLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PackLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_PackLoader)  # a SafeLoader subclass: no arbitrary objects


def words_regex(words: Iterable[str]) -> str:
    """A regex for whole `words` that also matches their usual disguises.

    Leetspeak ("sh1t", "b@stard"), masks after the first letter ("f**k"), stretched letters
    ("fuuuck") and separators ("s.h.i.t"). Masks are not allowed in words of three letters or
    fewer, where "F#" or "A*" would otherwise read as disguised swearing. The match must not
    touch another letter or digit on either side, which is what keeps "Scunthorpe", "Dickens"
    and "assessment" clean.
    """
    alternatives = []
    for word in sorted({w.lower() for w in words}, key=len, reverse=True):
        parts = []
        for i, ch in enumerate(word):
            chars = re.escape(ch) + "".join(re.escape(c) for c in LEET.get(ch, ""))
            if i == 0:
                parts.append(f"[{chars}]")
            else:
                masks = re.escape(MASKS) if len(word) >= 4 else ""
                parts.append(f"[._\\-]?[{chars}{masks}]+" if ch.isalpha() else re.escape(ch))
        alternatives.append("".join(parts))
    return r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])"


def _node_lines(text: str) -> dict[int, int]:
    """Line number (1-based) of each rule in a pack, so errors can point at it."""
    try:
        root = yaml.compose(text, Loader=_PackLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    for key, value in root.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            return {i: item.start_mark.line + 1 for i, item in enumerate(value.value)}
    return {}


def _expand(value: Any, terms: dict[str, list[str]], where: str) -> Any:
    """Replace ``$name`` strings by the pack's term list `name`, anywhere in a structure."""
    if isinstance(value, str) and value.startswith("$"):
        if value[1:] not in terms:
            raise ValueError(f"{where}: unknown term list '{value}'")
        return list(terms[value[1:]])
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            expanded = _expand(item, terms, where)
            # a term inside a phrase/word list is spliced in, not nested
            if isinstance(item, str) and item.startswith("$"):
                out.extend(expanded)
            else:
                out.append(expanded)
        return out
    if isinstance(value, dict):
        return {k: _expand(v, terms, where) for k, v in value.items()}
    return value


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where} must be a list of non-empty strings")
    return tuple(value)


def _trigger(raw: Any, where: str, terms: dict[str, list[str]]) -> Trigger:
    if raw is None:
        return Trigger()
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a mapping of {', '.join(TRIGGER_KEYS)}")
    unknown = set(raw) - set(TRIGGER_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    raw = _expand(raw, terms, where)
    patterns = raw.get("patterns", [])
    if not isinstance(patterns, list) or not all(
        isinstance(p, list) and p and all(isinstance(t, dict) for t in p) for p in patterns
    ):
        raise ValueError(f"{where}.patterns must be a list of token-pattern lists")
    trigger = Trigger(
        patterns=tuple(patterns),
        phrases=_string_list(raw.get("phrases", []), f"{where}.phrases"),
        regex=_string_list(raw.get("regex", []), f"{where}.regex"),
        words=_string_list(raw.get("words", []), f"{where}.words"),
        entities=_string_list(raw.get("entities", []), f"{where}.entities"),
    )
    for rx in trigger.regex:
        try:
            re.compile(rx)
        except re.error as exc:
            raise ValueError(f"{where}.regex {rx!r}: {exc}") from None
    return trigger


def _similar(raw: Any, where: str) -> Similar | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - SIMILAR_KEYS or "examples" not in raw:
        raise ValueError(f"{where}.similar must be a mapping of {', '.join(sorted(SIMILAR_KEYS))}"
                         " with 'examples'")
    examples = raw["examples"]
    if examples == ORDINARY or not (EXEMPLAR_DIR / f"{examples}.yaml").is_file():
        raise ValueError(f"{where}.similar.examples: no example file {examples}.yaml "
                         f"in {EXEMPLAR_DIR}")
    values = {}
    for key, default in (("min_similarity", 0.5), ("margin", 0.05)):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 <= value <= 1:
            raise ValueError(f"{where}.similar.{key} must be a number between -1 and 1")
        values[key] = float(value)
    return Similar(examples, values["min_similarity"], values["margin"])


def _context(raw: Any, base: dict[str, str], where: str) -> dict[str, str]:
    if raw is None:
        return dict(base)
    if not isinstance(raw, dict):
        raise ValueError(f"{where}.context must be a mapping")
    out = dict(base)
    for kind, action in raw.items():
        if kind not in CONTEXT_KINDS:
            raise ValueError(f"{where}.context: unknown context '{kind}'")
        if action not in CONTEXT_ACTIONS:
            raise ValueError(f"{where}.context.{kind}: use one of {', '.join(CONTEXT_ACTIONS)}")
        out[kind] = action
    return out


def _text(raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: '{key}' is required and must be text")
    return " ".join(value.split())


def _rule(raw: Any, pack: dict[str, Any], terms: dict[str, list[str]], where: str) -> Rule:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a rule must be a mapping")
    rule_id = raw.get("id")
    category = pack["category"]
    if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", rule_id):
        raise ValueError(f"{where}: 'id' must look like '{category}.some_name'")
    where = f"{where} ({rule_id})"
    if rule_id.split(".")[0] != category:
        raise ValueError(f"{where}: id must start with the pack category '{category}.'")
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    defaults = pack.get("defaults") or {}
    severity = raw.get("severity", defaults.get("severity"))
    if severity not in SEVERITIES:
        raise ValueError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    match = _trigger({k: raw[k] for k in TRIGGER_KEYS if k in raw}, where, terms)
    similar = _similar(raw.get("similar"), where)
    if not match and similar is None:
        raise ValueError(f"{where}: needs patterns, phrases, regex, words, entities or similar")
    examples = raw.get("examples") or {}
    if not isinstance(examples, dict) or set(examples) - {"fire", "pass"}:
        raise ValueError(f"{where}: examples must be a mapping with 'fire' and/or 'pass'")
    suggestion = raw.get("suggestion", defaults.get("suggestion"))
    scope = raw.get("scope", "sentence")
    if scope not in SCOPES:
        raise ValueError(f"{where}: scope must be one of {', '.join(SCOPES)}")
    return Rule(
        id=rule_id,
        category=category,
        severity=severity,
        clause=_text(raw, "clause", where, pack.get("clause") or CLAUSES[category]),
        message=_text(raw, "message", where),
        explanation=_text(raw, "explanation", where),
        suggestion=" ".join(suggestion.split()) if isinstance(suggestion, str) else None,
        match=match,
        exceptions=_trigger(raw.get("exceptions"), f"{where}.exceptions", terms),
        requires=_trigger(raw.get("requires"), f"{where}.requires", terms),
        mitigations=_trigger(raw.get("mitigations"), f"{where}.mitigations", terms),
        context=_context(raw.get("context"),
                         _context(defaults.get("context"), DEFAULT_CONTEXT, where), where),
        examples=Examples(
            fire=_string_list(examples.get("fire", []), f"{where}.examples.fire"),
            passes=_string_list(examples.get("pass", []), f"{where}.examples.pass"),
        ),
        scope=scope,
        similar=similar,
    )


def _load_pack(path: Path) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
        pack = _yaml(text)
    except OSError as exc:
        raise InputError(path, f"cannot read rule pack ({exc.__class__.__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise InputError(path, f"{line}invalid YAML ({getattr(exc, 'problem', exc)})") from None
    try:
        if not isinstance(pack, dict) or set(pack) - PACK_KEYS:
            raise ValueError(f"a pack is a mapping with keys {', '.join(sorted(PACK_KEYS))}")
        if pack.get("category") not in TEXT_CATEGORIES:
            raise ValueError(f"'category' must be one of {', '.join(TEXT_CATEGORIES)}")
        if set(pack.get("defaults") or {}) - DEFAULT_KEYS:
            raise ValueError(f"'defaults' may only set {', '.join(sorted(DEFAULT_KEYS))}")
        terms = pack.get("terms") or {}
        if not isinstance(terms, dict):
            raise ValueError("'terms' must map names to lists of strings")
        terms = {k: list(_string_list(v, f"terms.{k}")) for k, v in terms.items()}
        rules_raw = pack.get("rules")
        if not isinstance(rules_raw, list) or not rules_raw:
            raise ValueError("'rules' must be a non-empty list")
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
    rules = []
    for i, raw in enumerate(rules_raw):
        try:
            rule = _rule(raw, pack, terms, "line ?")
        except ValueError as exc:
            # parse again only now, for the line number: a good pack is loaded once
            line = _node_lines(text).get(i, "?")
            raise InputError(path, str(exc).replace("line ?", f"line {line}", 1)) from None
        rule.source = str(path)
        rules.append(rule)
    return rules


def load_packs(extra: Sequence[Path] = ()) -> list[Rule]:
    """All rules: the packs shipped with postguard, then the trust's own pack files.

    A pack that does not validate is an input error naming the file, the line and the rule,
    never a rule silently skipped. Token patterns are checked by spaCy's validating matcher.
    """
    paths = sorted(p for p in PACK_DIR.glob("*.yaml") if not p.name.startswith("_"))
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    vocab = build_nlp().vocab
    for path in [*paths, *extra]:
        for rule in _load_pack(Path(path)):
            if rule.id in seen:
                raise InputError(path, f"{rule.id}: duplicate rule id (also in {seen[rule.id]})")
            seen[rule.id] = str(path)
            checker = Matcher(vocab, validate=True)
            for part, trig in (("", rule.match), (".exceptions", rule.exceptions),
                               (".requires", rule.requires), (".mitigations", rule.mitigations)):
                try:
                    checker.add(rule.id + part, list(trig.patterns))
                except (ValueError, KeyError, TypeError) as exc:
                    details = [ln.strip("- ") for ln in str(exc).splitlines() if "->" in ln]
                    problem = "; ".join(details[:3]) or str(exc).strip().splitlines()[0]
                    raise InputError(path, f"{rule.id}{part}.patterns: {problem}") from None
            rules.append(rule)
    return rules


def load_context_cues(path: Path = CONTEXT_FILE) -> ContextCues:
    """The shared cue lists (attribution, curriculum, negation words) from ``_context.yaml``."""
    try:
        raw = _yaml(path.read_text(encoding="utf-8"))
        terms = {k: list(_string_list(v, f"terms.{k}")) for k, v in
                 (raw.get("terms") or {}).items()}
        negation = raw["negation"]
        return ContextCues(
            attribution=_trigger(raw["attribution"], "attribution", terms),
            curriculum=_trigger(raw["curriculum"], "curriculum", terms),
            negation=frozenset(_string_list(negation["words"], "negation.words")),
            negation_window=int(negation.get("window", 3)),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(path, f"invalid context cues ({exc})") from None


# ---------------------------------------------------------------------------------------------
# Compiling and running


@dataclass
class _Engine:
    """The packs compiled against one pipeline: one Matcher, one PhraseMatcher, the regexes."""

    nlp: Language
    rules: list[Rule]
    cues: ContextCues
    matcher: Matcher
    phrases: PhraseMatcher
    regexes: list[tuple[str, re.Pattern[str]]]
    entities: dict[str, frozenset[str]]


def _add(engine: _Engine, key: str, trigger: Trigger) -> None:
    if trigger.patterns:
        engine.matcher.add(key, list(trigger.patterns))
    if trigger.phrases:
        engine.phrases.add(key, [engine.nlp.make_doc(p) for p in trigger.phrases])
    for rx in trigger.regex:
        engine.regexes.append((key, re.compile(rx, re.IGNORECASE)))
    if trigger.words:
        engine.regexes.append((key, re.compile(words_regex(trigger.words), re.IGNORECASE)))
    if trigger.entities:
        engine.entities[key] = frozenset(trigger.entities)


@functools.cache
def _engine(model: str | None, packs: tuple[str, ...] = ()) -> _Engine:
    """Compile the packs once per pipeline; every post afterwards only runs the matchers."""
    nlp = build_nlp(model)
    rules = load_packs([Path(p) for p in packs])
    engine = _Engine(nlp=nlp, rules=rules, cues=load_context_cues(),
                     matcher=Matcher(nlp.vocab), phrases=PhraseMatcher(nlp.vocab, attr="LOWER"),
                     regexes=[], entities={})
    _add(engine, "@attribution", engine.cues.attribution)
    _add(engine, "@curriculum", engine.cues.curriculum)
    for rule in engine.rules:
        _add(engine, f"{rule.id}#match", rule.match)
        _add(engine, f"{rule.id}#except", rule.exceptions)
        _add(engine, f"{rule.id}#require", rule.requires)
        _add(engine, f"{rule.id}#mitigate", rule.mitigations)
    return engine


@functools.cache
def _allow_regex(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alts = "|".join(re.escape(t.strip()) for t in sorted(terms, key=len, reverse=True) if t.strip())
    return re.compile(rf"(?<![^\W_])(?:{alts})(?![^\W_])", re.IGNORECASE) if alts else None


Hits = dict[str, list[tuple[int, int]]]


def _collect(engine: _Engine, doc: Doc) -> Hits:
    """Every match of every key in one pass of each matcher: (start_char, end_char) pairs."""
    hits: Hits = defaultdict(list)
    strings = engine.nlp.vocab.strings
    for key_id, start, end in [*engine.matcher(doc), *engine.phrases(doc)]:
        span = doc[start:end]
        hits[strings[key_id]].append((span.start_char, span.end_char))
    text = doc.text  # rebuilt from the tokens on every access
    for key, rx in engine.regexes:
        for m in rx.finditer(text):
            group = "hit" if "hit" in rx.groupindex and m.start("hit") >= 0 else 0
            if m.end(group) > m.start(group):
                hits[key].append((m.start(group), m.end(group)))
    for ent in doc.ents:
        for key, labels in engine.entities.items():
            if ent.label_ in labels:
                hits[key].append((ent.start_char, ent.end_char))
    return hits


def _similar_hits(doc: Doc, rules: list[Rule], hits: Hits) -> dict[tuple[int, int], Verdict]:
    """Add a match for every sentence a `similar` rule accepts; return why, per sentence span.

    Only sentences of a few words or more are embedded, each distinct sentence once, and at
    most MAX_SENTENCES of them (about 7 s): a post is a few sentences, and the patterns still
    read all of a longer text.
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    for sent in doc.sents:
        text = sent.text.strip()
        if worth_embedding(text) and (text in spans or len(spans) < MAX_SENTENCES):
            start = sent.start_char + len(sent.text) - len(sent.text.lstrip())
            spans.setdefault(text, []).append((start, start + len(text)))
    verdicts = classify(list(spans))
    why: dict[tuple[int, int], Verdict] = {}
    for span, verdict in ((span, v) for places, v in zip(spans.values(), verdicts, strict=True)
                          for span in places):
        for rule in rules:
            if rule.similar is not None and rule.similar.accepts(verdict):
                hits[f"{rule.id}#match"].append(span)
                why[span] = verdict
    return why


def _longest_first(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping spans, preferring the longest: one finding per phrase, not per word."""
    chosen: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda s: (s[0] - s[1], s[0])):
        if all(end <= a or start >= b for a, b in chosen):
            chosen.append((start, end))
    return sorted(chosen)


def _in_sentence(
    hits: Hits, key: str, sent: Span, avoid: tuple[int, int]
) -> tuple[int, int] | None:
    """First hit of `key` inside `sent` that does not overlap the match itself."""
    for start, end in hits.get(key, ()):
        if start >= sent.start_char and end <= sent.end_char and (
            end <= avoid[0] or start >= avoid[1]
        ):
            return start, end
    return None


def _sentence(doc: Doc, start: int, end: int) -> tuple[Span, Span]:
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not len(span):
        # a match inside trailing whitespace cannot happen with our regexes; be safe anyway
        span = doc[len(doc) - 1:]
    return span, doc[span.start].sent


def _contexts(engine: _Engine, doc: Doc, rule: Rule, span: Span, sent: Span,
              quotes: list[tuple[int, int]], hits: Hits,
              learned: bool) -> list[tuple[str, str]]:
    """The generic contexts present for one match, each with the words that show it.

    A learned match is a whole sentence: it counts as quoted when most of it is inside
    quotation marks, and its attribution or curriculum cue is inside it, not beside it.
    """
    found: list[tuple[str, str]] = []
    start, end = span.start_char, span.end_char
    if learned:
        inside = sum(max(0, min(end, b) - max(start, a)) for a, b in quotes)
        is_quoted = inside >= (end - start) / 2
    else:
        is_quoted = any(a <= start and end <= b for a, b in quotes)
    if is_quoted:
        found.append(("quote", "the words are inside a quotation"))
    beside = (-1, -1) if learned else (start, end)
    attribution = _in_sentence(hits, "@attribution", sent, beside)
    if attribution:
        found.append(("attribution", f"the sentence attributes them to someone else "
                                     f"('{doc.text[attribution[0]:attribution[1]]}')"))
    window = doc[max(sent.start, span.start - engine.cues.negation_window):span.end]
    negations = [t.text for t in window if t.lower_ in engine.cues.negation]
    if negations:
        found.append(("negation", f"they are negated ('{negations[-1]}')"))
    if sent.text.rstrip().endswith("?"):
        found.append(("question", "the sentence is a question"))
    curriculum = _in_sentence(hits, "@curriculum", sent, beside)
    if curriculum:
        found.append(("curriculum", f"the sentence describes a curriculum activity "
                                    f"('{doc.text[curriculum[0]:curriculum[1]]}')"))
    # a mitigation may overlap the match itself ("office@" inside an e-mail address)
    mitigation = _in_sentence(hits, f"{rule.id}#mitigate", sent, (-1, -1))
    if mitigation:
        found.append(("mitigation", f"the sentence mentions "
                                    f"'{doc.text[mitigation[0]:mitigation[1]]}'"))
    return found


def _lower(severity: Severity) -> Severity:
    return ORDER[min(ORDER.index(severity) + 1, len(ORDER) - 1)]


def _apply_rule(engine: _Engine, doc: Doc, rule: Rule, severity: Severity, hits: Hits,
                quotes: list[tuple[int, int]], allowed: list[tuple[int, int]],
                field_name: str | None,
                similar: dict[tuple[int, int], Verdict]) -> Iterable[Finding]:
    for start, end in _longest_first(hits.get(f"{rule.id}#match", [])):
        if any(a <= start and end <= b for a, b in allowed):
            continue
        span, sent = _sentence(doc, start, end)
        area = doc[:] if rule.scope == "post" else sent
        if _in_sentence(hits, f"{rule.id}#except", area, (-1, -1)):
            continue
        verdict = similar.get((start, end)) if rule.similar else None
        # a learned match is the whole sentence: its requirement is inside it, not beside it
        beside = (-1, -1) if verdict else (start, end)
        if rule.requires and not _in_sentence(hits, f"{rule.id}#require", area, beside):
            continue
        final = severity
        notes: list[str] = []
        lowered: list[str] = []
        dropped = False
        for kind, why in _contexts(engine, doc, rule, span, sent, quotes, hits,
                                   verdict is not None):
            action = "lower" if kind == "mitigation" else rule.context.get(kind, "ignore")
            if action == "drop":
                dropped = True
            elif action == "info" and final is not Severity.INFO:
                notes.append(f"Recorded as info because {why}.")
                final = Severity.INFO
            elif action == "lower":
                lowered.append(why)
        if dropped:
            continue
        if lowered and final is not Severity.INFO:
            new = _lower(final)
            notes.append(f"Severity lowered from {final.value} to {new.value} because "
                         f"{'; '.join(lowered)}.")
            final = new
        snippet = doc.text[start:end]
        if verdict is not None:
            notes.insert(0, f"Closest example: '{verdict.nearest}' (similarity "
                            f"{verdict.score:.2f}, against {verdict.ordinary:.2f} for the "
                            f"closest ordinary sentences).")
        yield Finding(
            rule=rule.id,
            category=rule.category,
            severity=final,
            message=rule.message,
            clause=rule.clause,
            location=Location(text=TextSpan(start, end, snippet), field=field_name),
            explanation=" ".join([rule.explanation, f"Matched: '{snippet}'.", *notes]),
            suggestion=rule.suggestion,
        )


def _deduplicate(findings: list[Finding], learned: frozenset[str]) -> list[Finding]:
    """One finding per overlapping span and category: the most severe, then a pattern's
    (whose span shows the very words) before a learned one's, then the longest."""
    def rank(f: Finding) -> tuple[int, bool, int]:
        span = f.location.text
        assert span is not None
        return f.severity.rank, f.rule in learned, span.start - span.end

    kept: list[Finding] = []
    for finding in sorted(findings, key=rank):
        span = finding.location.text
        assert span is not None
        if not any(
            k.category == finding.category and k.location.text is not None
            and span.start < k.location.text.end and k.location.text.start < span.end
            for k in kept
        ):
            kept.append(finding)
    return sorted(kept, key=lambda f: (f.location.text.start if f.location.text else 0, f.rule))


def active_rules(config: Config) -> list[Rule]:
    """The rules `check_text` runs for this config: shipped packs plus the trust's own."""
    return _engine(config.text.model, tuple(config.text.packs)).rules


def check_text(text: str, config: Config, *, field: str | None = None) -> list[Finding]:
    """Run every enabled rule over `text` (the post body, or e.g. ``alt:photo.jpg``).

    Offsets in the findings are exact character offsets into `text` as given (no
    normalisation), so a report can underline the very words.
    """
    if not text.strip():
        return []
    engine = _engine(config.text.model, tuple(config.text.packs))
    doc = engine.nlp(text)
    hits = _collect(engine, doc)
    quotes = [m.span() for m in QUOTED.finditer(text)]
    allow = _allow_regex(tuple(config.allow))
    allowed = [m.span() for m in allow.finditer(text)] if allow else []
    levels = {rule.id: config.severity_for(rule.id, rule.category, rule.severity)
              for rule in engine.rules}
    learned = [r for r in engine.rules if r.similar is not None and levels[r.id] != "off"]
    similar = _similar_hits(doc, learned, hits) if learned else {}
    findings: list[Finding] = []
    for rule in engine.rules:
        if f"{rule.id}#match" not in hits or levels[rule.id] == "off":
            continue
        findings.extend(_apply_rule(engine, doc, rule, Severity(levels[rule.id]), hits, quotes,
                                    allowed, field, similar))
    return _deduplicate(findings, frozenset(r.id for r in learned))
