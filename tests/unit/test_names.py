"""Pupils' full names are found however staff happen to write them."""

from __future__ import annotations

import pytest

from postguard.consent.register import load_register
from postguard.names import find_full_names, first_name_version


@pytest.fixture(scope="module")
def register():
    from conftest import REGISTER

    return load_register(REGISTER)


@pytest.mark.parametrize(
    ("text", "pupil"),
    [
        ("Well done Maya Okafor!", "P1002"),
        ("Well done MAYOWA OKAFOR!", "P1002"),
        ("Congratulations to Maya\nOkafor in Year 6", "P1002"),
        ("Maya Okafor's winning run", "P1002"),
        ("Jack O’Brien scored twice", "P1005"),
        ("Jack O'Brien scored twice", "P1005"),
        ("Chloe Smith Jones read her poem", "P1006"),
        ("Chloé Smith-Jones read her poem", "P1006"),
        ("Amelia R. Jones painted this", "P1001"),
        ("amelia_jones_sports_day", "P1001"),
        ("amelia-jones-1", "P1001"),
        ("The card read 'Maya Okafor, Star of the Week'", "P1002"),
        ("‘Jack O’Brien’ was written on the trophy", "P1005"),
    ],
)
def test_full_name_found(register, text, pupil):
    hits = find_full_names(text, register)
    assert [h.pupil_id for h in hits] == [pupil]
    found = text[hits[0].start : hits[0].end]
    assert found.split()[0].lower().startswith(("maya", "mayowa", "jack", "chlo", "amelia"))


@pytest.mark.parametrize(
    "text",
    [
        "Well done Maya!",
        "Well done Maya O. in Year 6",
        "Thank you to Mrs Amelia Jones for running the stall",
        "Mr Oliver Brown led assembly",
        "Amelia and Maya Okafo painted",
        "Jane Eyre is our class reader",
        "D'Amelia Jones won",
    ],
)
def test_not_a_full_name(register, text):
    assert find_full_names(text, register) == []


def test_first_name_version_keeps_the_sentence(register):
    text = "A special mention for Maya Okafor's record and Jack O’Brien's goal."
    fixed = first_name_version(text, find_full_names(text, register), register)
    assert fixed == "A special mention for Maya's record and Jack's goal."


def test_first_name_version_keeps_quotation_marks(register):
    """A name in quotes (as reports quote matched words) loses its surname, not its quotes."""
    text = "The certificate says 'Maya Okafor' and the cup says ‘Amelia Jones’; Amelia Jones' kit."
    fixed = first_name_version(text, find_full_names(text, register), register)
    assert fixed == "The certificate says 'Maya' and the cup says ‘Amelia’; Amelia kit."
