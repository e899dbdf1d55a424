"""Property-based tests: the text engine and the register loader never crash on any input.

Hypothesis generates text and CSV content that staff, Excel and copy-paste could produce
(emoji, right-to-left scripts, control characters, CRLF, unbalanced quotes, odd delimiters).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postguard.config import Config
from postguard.consent.register import validate_register
from postguard.text.ignores import apply_ignores
from postguard.text.rules import active_rules, check_text

CONFIG = Config()
RULE_IDS = {rule.id: rule.category for rule in active_rules(CONFIG)}
SCHOOL_WORDS = st.sampled_from(
    [
        "Year 6",
        "petition",
        "Mrs Patel",
        "f*cking",
        "shame on the council",
        "I personally",
        "believe",
        "07700 900123",
        "born on 03/04/2017",
        "<!-- postguard: ignore political -->",
        'reason="x"',
        "«",
        "»",
        "\u202e",
        "\u200f",
        "مرحبا",
        "שלום",
        "👍🏽",
        "\r\n",
        "\n\n",
        "'",
        '"',
        "“",
        "—",
        "Ofsted",
        "Tories",
        "vote",
        "#proud",
    ]
)
POSTS = st.lists(st.one_of(st.text(max_size=40), SCHOOL_WORDS), max_size=30).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POSTS)
def test_text_engine_never_raises_and_spans_are_valid(text: str) -> None:
    findings = apply_ignores(text, check_text(text, CONFIG), RULE_IDS)
    for finding in findings:
        span = finding.location.text
        assert span is not None
        assert 0 <= span.start <= span.end <= len(text)
        assert finding.clause and finding.message
        if not finding.rule.startswith("ignore."):
            assert text[span.start : span.end] == span.snippet


CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "P1",
            "P2",
            "granted",
            "refused",
            "withdrawn",
            "parent",
            "pupil",
            "31/02/2026",
            "2026-09-01",
            "yes",
            "no",
            "website",
            "social_media",
            "",
        ]
    ),
)
ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=9), max_size=8)
HEADERS = {
    "pupils.csv": "pupil_id,legal_forename,legal_surname,preferred_forename,preferred_surname,"
    "year_group,on_roll,do_not_photograph",
    "consents.csv": "pupil_id,purpose,status,given_by,recorded_at,expires_on,withdrawn_at",
}


@settings(max_examples=100, deadline=None)
@given(ROWS, ROWS, st.sampled_from([",", ";"]), st.sampled_from(["utf-8-sig", "cp1252", "utf-8"]))
def test_register_loader_reports_problems_and_never_raises(
    pupils: list[list[str]], consents: list[list[str]], delimiter: str, encoding: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "manifest.yaml").write_text("schema_version: 1\nschool: T\n", encoding="utf-8")
        for name, rows in (("pupils.csv", pupils), ("consents.csv", consents)):
            lines = [HEADERS[name].replace(",", delimiter)]
            lines += [delimiter.join(c.replace(delimiter, " ") for c in row) for row in rows]
            (folder / name).write_bytes("\r\n".join(lines).encode(encoding, errors="replace"))
        register, problems = validate_register(folder)
        assert register is not None
        for problem in problems:
            assert problem.reason and "\n" not in str(problem)
            assert problem.line is None or problem.line >= 1
        for pupil in register.pupils:
            for purpose in ("website", "social_media", "biometric_matching"):
                register.consent(pupil, purpose)
