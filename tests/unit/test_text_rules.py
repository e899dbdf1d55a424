"""The text rule engine: pack loading and validation, context handling, configuration, offsets.

Offsets matter because every finding underlines exact words in the report: the property-style
tests below check text[start:end] == snippet on awkward input (emoji, right-to-left script,
CRLF, very long posts), not only on tidy ASCII.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from postguard.config import Config
from postguard.errors import InputError
from postguard.findings import Severity
from postguard.text.nlp import build_nlp
from postguard.text.rules import (
    TEXT_CATEGORIES,
    Rule,
    check_text,
    load_context_cues,
    load_packs,
    words_regex,
)

RULES = load_packs()


def _rules(text: str, config: Config | None = None) -> list[str]:
    return [f.rule for f in check_text(text, config or Config())]


# --- packs ---------------------------------------------------------------------------------


def test_every_category_has_rules_with_examples() -> None:
    for category in TEXT_CATEGORIES:
        rules = [r for r in RULES if r.category == category]
        assert len(rules) >= 3, category
    for rule in RULES:
        assert rule.examples.fire, f"{rule.id} has no firing example"
        assert rule.clause and rule.message and rule.explanation


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_examples(rule: Rule) -> None:
    """Every example in a pack does what it says: the packs document themselves truthfully."""
    for text in rule.examples.fire:
        assert rule.id in _rules(text), f"{rule.id} should fire on: {text}"
    for text in rule.examples.passes:
        assert rule.id not in _rules(text), f"{rule.id} should pass: {text}"


def test_context_cues_load() -> None:
    cues = load_context_cues()
    assert "not" in cues.negation
    assert cues.curriculum.phrases and cues.attribution.phrases


def _pack(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "trust.yaml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD_PACK = """
category: political
rules:
  - id: political.trust_local
    severity: warning
    message: Local campaign.
    explanation: Local campaign slogans take a side.
    phrases: [save our swimming pool]
    examples: {fire: ["Save our swimming pool!"], pass: ["The pool is open."]}
"""


def test_extra_pack_is_loaded(tmp_path: Path) -> None:
    rules = load_packs([_pack(tmp_path, GOOD_PACK)])
    assert rules[-1].id == "political.trust_local"
    assert rules[-1].severity == "warning"
    assert rules[-1].clause.startswith("Official posts must not take a side")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("category: political\nrules: [", "invalid YAML"),
        ("category: sport\nrules: []", "'category' must be one of"),
        (GOOD_PACK.replace("political.trust_local", "attack.trust_local"),
         "must start with the pack category"),
        (GOOD_PACK.replace("phrases:", "phrazes:"), "unknown key(s) phrazes"),
        (GOOD_PACK.replace("phrases: [save our swimming pool]",
                           "patterns: [[{LOWER: {IN: 3}}]]"), "political.trust_local.patterns"),
        (GOOD_PACK.replace("phrases: [save our swimming pool]", "regex: ['(unclosed']"),
         "regex"),
        (GOOD_PACK.replace("phrases: [save our swimming pool]", "phrases: [$missing]"),
         "unknown term list"),
        (GOOD_PACK.replace("    phrases:", "    severity: fatal\n    phrases:"),
         "severity must be one of"),
        (GOOD_PACK.replace("political.trust_local", "political.petition"), "duplicate rule id"),
    ],
)
def test_invalid_pack_is_an_input_error(tmp_path: Path, body: str, problem: str) -> None:
    path = _pack(tmp_path, body)
    with pytest.raises(InputError) as err:
        load_packs([path])
    assert err.value.path == str(path)
    assert problem in err.value.problem


def test_invalid_rule_error_names_line_and_rule(tmp_path: Path) -> None:
    path = _pack(tmp_path, GOOD_PACK.replace("    message: Local campaign.\n", ""))
    with pytest.raises(InputError, match=r"line 4 \(political.trust_local\): 'message'"):
        load_packs([path])


def test_yaml_on_off_are_words_not_booleans(tmp_path: Path) -> None:
    body = GOOD_PACK.replace("phrases: [save our swimming pool]", "phrases: [on, off, yes, no]")
    rule = load_packs([_pack(tmp_path, body)])[-1]
    assert rule.match.phrases == ("on", "off", "yes", "no")


# --- words through disguises ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["f*ck", "F**K", "fuuuck", "f.u.c.k", "phuck-free", "fvck"])
def test_obfuscated_words(text: str) -> None:
    import re

    rx = re.compile(words_regex(["fuck"]), re.IGNORECASE)
    assert bool(rx.search(text)) is (text != "phuck-free")


@pytest.mark.parametrize(
    "text",
    ["Scunthorpe United", "our class assessment", "Dickens and Penistone", "F# minor scale",
     "Grades: A*A*A", "shiitake mushrooms", "Cockermouth", "Sussex and Essex", "Pissarro",
     "Matsushita", "Hancock", "the cocktail bar", "Arsenal won", "Japan and Japanese"],
)
def test_no_scunthorpe_false_positives(text: str) -> None:
    assert not [r for r in _rules(text) if r.startswith("offensive.")]


# --- context ---------------------------------------------------------------------------------


def _only(text: str, rule: str):
    found = [f for f in check_text(text, Config()) if f.rule == rule]
    assert len(found) == 1, found
    return found[0]


def test_quotation_lowers_severity_and_says_so() -> None:
    finding = _only('One parent wrote: "the government\'s disastrous policy".',
                    "political.policy_condemn")
    assert finding.severity is Severity.WARNING
    assert "quotation" in finding.explanation


def test_attribution_lowers_severity() -> None:
    finding = _only("As the DfE announced today, these cruel cuts will hit schools.",
                    "political.policy_condemn")
    assert finding.severity is Severity.WARNING
    assert "announced" in finding.explanation


def test_negation_lowers_severity() -> None:
    finding = _only("The inspectors were not incompetent.", "attack.criticism")
    assert finding.severity is Severity.WARNING
    assert "negated" in finding.explanation


def test_question_lowers_severity() -> None:
    finding = _only("Is the new framework wrong, in my opinion?",
                    "personal_view.opinion_on_contested")
    assert finding.severity is Severity.WARNING


def test_curriculum_drops_political_match() -> None:
    assert _rules("In our mock election, pupils urged everyone to vote Labour.") == []
    assert "political.vote_urge" in _rules("Everyone should vote Labour.")


def test_context_does_not_soften_swearing() -> None:
    finding = _only('"What the f*ck?" he said in the debate.', "offensive.profanity")
    assert finding.severity is Severity.ERROR


def test_mitigation_lowers_school_office_contact() -> None:
    finding = _only("Call the school office on 0113 496 0000.", "pupil_data.phone_number")
    assert finding.severity is Severity.INFO
    assert "school office" in finding.explanation


def test_exception_in_same_sentence_only() -> None:
    assert "offensive.dick" not in _rules("Dick Whittington is our panto.")
    assert "offensive.dick" in _rules("Dick Whittington is our panto. Don't be a dick.")


def test_staff_titles_are_not_pupils() -> None:
    doc = build_nlp()("Mrs Patel and Mr O'Neill took Year 6 to see Amelia's play.")
    labels = {ent.text: ent.label_ for ent in doc.ents}
    assert labels["Mrs Patel"] == "STAFF"
    assert labels["Mr O'Neill"] == "STAFF"
    assert labels["Year 6"] == "YEAR_GROUP"
    assert labels["Amelia"] == "NAME"
    assert "pupil_data.medical_sen" not in _rules("Mrs Patel has asthma and took the day off.")


def test_org_entities_are_not_names() -> None:
    doc = build_nlp()("Thanks to Cancer Research UK and Blueline Coaches for their help.")
    labels = {ent.text: ent.label_ for ent in doc.ents}
    assert labels["Cancer Research UK"] == "ORG"
    assert labels["Blueline Coaches"] == "ORG"


def test_post_scope_looks_for_requirements_in_other_sentences(tmp_path: Path) -> None:
    body = GOOD_PACK.replace("    examples:", "    requires: {phrases: [council]}\n    examples:")
    sentence = load_packs([_pack(tmp_path, body)])[-1]
    assert sentence.scope == "sentence"
    scoped = body.replace("    requires:", "    scope: post\n    requires:")
    post = load_packs([_pack(tmp_path, scoped)])[-1]
    assert post.scope == "post"
    bad = _pack(tmp_path, body.replace("    requires:", "    scope: page\n    requires:"))
    with pytest.raises(InputError, match="scope must be one of"):
        load_packs([bad])


def test_line_breaks_split_sentences() -> None:
    doc = build_nlp()("Trip news\nWe had a great day\r\nThanks all")
    assert len(list(doc.sents)) == 3


# --- configuration -------------------------------------------------------------------------


def test_severity_override_and_off() -> None:
    text = "Please sign the petition to save the library."
    assert _only(text, "political.petition").severity is Severity.WARNING
    config = Config(severity={"political.petition": "error"})
    assert check_text(text, config)[0].severity is Severity.ERROR
    assert check_text(text, Config(severity={"political": "off"})) == []
    # with the pattern switched off, the learned rule still sees a campaign in the sentence
    disabled = check_text(text, Config(disabled_rules=["political.petition"]))
    assert [f.rule for f in disabled] == ["political.learned"]
    both = Config(disabled_rules=["political.petition", "political.learned"])
    assert check_text(text, both) == []


def test_allow_list_drops_matches_inside_allowed_terms() -> None:
    text = "Thanks to Sexy Fish restaurant for sponsoring our sports day."
    assert "offensive.sexual" in _rules(text)
    assert "offensive.sexual" not in _rules(text, Config(allow=["Sexy Fish"]))


def test_unknown_model_is_an_input_error() -> None:
    with pytest.raises(InputError, match="spaCy model 'en_no_such_model' is not installed"):
        build_nlp("en_no_such_model")


def test_finding_shape() -> None:
    finding = check_text("Sh1t.", Config(), field="alt:photo.jpg")[0]
    assert finding.location.field == "alt:photo.jpg"
    assert finding.category == "offensive"
    assert finding.clause.startswith("Use appropriate language")
    assert finding.suggestion
    assert "Matched: 'Sh1t'" in finding.explanation


def test_empty_and_whitespace_text() -> None:
    assert check_text("", Config()) == []
    assert check_text(" \n\t ", Config()) == []


# --- offsets (property style) ----------------------------------------------------------------

VIOLATIONS = [
    "Sh1t happens.", "Shame on the council.", "Happy birthday to Amelia who turns 7 today!",
    "Text 07700 900123 now.", "These shameful cuts must stop.", "So-called experts.",
    "I personally believe the new framework is wrong.", "Email a.b@gmail.com please.",
]
NOISE = ["🎉🎉", "👨‍👩‍👧‍👦", "مرحبا بكم في مدرستنا", "שלום", "\r\n", "\n\n", "  ", "Ünïcödé café",
         "Year 6 had a lovely day.", "\u200b", "e\u0301", "𝔣𝔞𝔫𝔠𝔶", "\t", "—"]


def _assert_offsets(text: str) -> int:
    findings = check_text(text, Config())
    for f in findings:
        span = f.location.text
        assert span is not None
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start:span.end] == span.snippet
    return len(findings)


def test_offsets_are_exact_on_random_mixtures() -> None:
    rng = random.Random(20240611)
    for _ in range(200):
        parts = rng.choices(VIOLATIONS + NOISE, k=rng.randint(1, 8))
        # a separator after each part: glued to a letter, a word is not a whole word
        text = "".join(p + rng.choice([" ", "\r\n", " 😀 ", "\t"]) for p in parts)
        found = _assert_offsets(text)
        if any(p in VIOLATIONS for p in parts):
            assert found, text


def test_offsets_with_emoji_rtl_and_crlf() -> None:
    text = "مرحبا 👋🏽\r\nشكرا\r\nWhat a f*cking day 🎉\r\nסוף"
    finding = check_text(text, Config())[0]
    assert finding.location.text is not None
    assert text[finding.location.text.start:finding.location.text.end] == "f*cking"


def test_very_long_text() -> None:
    filler = "Year 6 had a lovely day at the seaside and everyone behaved well. " * 2000
    text = filler + "Shame on the council." + filler
    start = time.perf_counter()
    findings = check_text(text, Config())
    assert time.perf_counter() - start < 10
    assert [f.rule for f in findings] == ["attack.shame"]
    _assert_offsets(text)
