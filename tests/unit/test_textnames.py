"""Pupils' full names the register does not know, found by what the post says around them."""

from __future__ import annotations

from pathlib import Path

import pytest

from postguard.consent.register import load_register
from postguard.findings import Finding, Location, Report, Severity, TextSpan
from postguard.names import (
    find_full_names,
    is_text_name,
    mask_report,
    with_text_names,
    without_full_names,
)
from postguard.textnames import find_unknown_pupil_names


@pytest.fixture(scope="module")
def register():
    from conftest import REGISTER

    return load_register(REGISTER)


def _names(text: str) -> list[str]:
    return [text[h.start : h.end] for h in find_unknown_pupil_names(text)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            "Well done to our Year 4 team: Tom Smith, Priya Shah and Ben Walker-Lee!",
            ["Tom Smith", "Priya Shah", "Ben Walker-Lee"],
        ),
        (
            "Team:\nTom Smith\nKwabena Mensah-Bonsu\nBen O’Connor",
            ["Tom Smith", "Kwabena Mensah-Bonsu", "Ben O’Connor"],
        ),
        ("STAR OF THE WEEK\nTOM SMITH\nfor fantastic effort in maths", ["TOM SMITH"]),
        ("Congratulations to Tom Smith (aged 7) for his painting.", ["Tom Smith"]),
        ("Year 6 pupil Tom Smith read his poem to the school.", ["Tom Smith"]),
        (
            "Our girls football team won, with goals from Lily Evans and Mia Clarke.",
            ["Lily Evans", "Mia Clarke"],
        ),
        ("Our new head girl, Zara Ahmed, spoke at assembly.", ["Zara Ahmed"]),
    ],
)
def test_cued_names_are_found(text, names):
    assert _names(text) == names


@pytest.mark.parametrize(
    "text",
    [
        # staff, by title or role
        "Thank you to Mrs Amelia Jones and our caretaker John Hill for helping Year 2.",
        "Year 6 were coached by Sir Clive Woodward.",
        "Our pupils met author Michael Morpurgo.",
        # books, characters, writers
        "Our Year 9 class are reading Jane Eyre by Charlotte Brontë this term.",
        "Year 7 have started their class reader, Tom Sawyer.",
        "Year 6 enjoyed Harry Potter Day.",
        "Year 2 performed 'Peter Pan' for parents.",
        "Year 4 have been learning about Florence Nightingale.",
        # places and venues
        "Year 3 loved their trip to Milton Keynes and St Albans.",
        "Year 6 had a fantastic trip to Sutton Coldfield with Mr Upton.",
        "Year 5 visited the Natural History Museum and Stoke Mandeville.",
        # no pupil cue at all
        "Tom Smith won the county prize.",
        # capitalised phrases next to a cue
        "Year 9 marked International Women's Day and studied World War One.",
    ],
)
def test_not_pupils(text):
    assert _names(text) == []


def test_reason_names_the_cue_never_the_name():
    (hit,) = find_unknown_pupil_names("Year 6 pupil Tom Smith read his poem.")
    assert "Year 6" in hit.reason and "Smith" not in hit.reason


def test_learned_names_are_matched_everywhere_and_masked(register):
    body = "Huge congratulations to Year 6 pupil Tom Smith!"
    learned = with_text_names(register, [body])
    assert learned is not register and len(learned.pupils) == len(register.pupils) + 1
    assert all(not is_text_name(p) for p in register.pupils), "the register is not changed"
    hits = find_full_names("tom_smith_medal", learned)
    assert [is_text_name(h.pupil_id) for h in hits] == [True]
    assert without_full_names("tom_smith_medal", learned) == "Tom_medal"


def test_register_names_are_not_learned_twice(register):
    learned = with_text_names(register, ["Year 5 star Amelia Jones and Year 6 star Maya Okafor"])
    assert learned is register


def test_without_full_names_masks_cued_names_in_the_text_itself(register):
    text = "Our Year 4 team: Tom Smith, Priya Shah and Amelia Jones."
    assert without_full_names(text, register) == "Our Year 4 team: Tom, Priya and Amelia."


def test_mask_report_covers_learned_names(register, tmp_path: Path):
    learned = with_text_names(register, ["Year 6 pupil Tom Smith ran the 100 m."])
    report = Report(draft=str(tmp_path / "tom-smith-sports-day"), channel="social_media")
    report.findings.append(
        Finding(
            rule="pupil_data.medical_sen",
            category="pupil_data",
            severity=Severity.ERROR,
            message="medical detail about Tom Smith",
            clause="",
            location=Location(text=TextSpan(0, 9, "Tom Smith has asthma"), field=None),
        )
    )
    mask_report(report, learned)
    dumped = str(report.draft) + str([f.to_json() for f in report.findings])
    assert "smith" not in dumped.lower()
