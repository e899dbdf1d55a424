"""The learned part of the text checks: the real sentence model on real sentences.

Nothing here is mocked: the vectors come from the pinned int8 all-MiniLM-L6-v2 file, and the
sentences are not in the example files (a test on an example sentence would only test lookup).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from postguard.config import Config
from postguard.errors import InputError
from postguard.findings import Severity
from postguard.text import semantic
from postguard.text.rules import check_text, load_packs
from postguard.text.semantic import classify, encoder, exemplar_set, load_exemplars

NEW_POLITICAL = (
    "Join us at the town hall rally to stop this government starving our schools of money."
)
NEW_ORDINARY = "The Year 4 trip to the Roman museum leaves at 9am on Tuesday, so please be on time."


def test_vectors_are_unit_length_and_deterministic() -> None:
    vectors = encoder().encode([NEW_ORDINARY, NEW_POLITICAL, NEW_ORDINARY])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2])


def test_a_sentence_vector_does_not_depend_on_the_rest_of_the_post() -> None:
    """The int8 model scales each input by its own range: a post must get the same verdict for
    a sentence whatever else it holds, including a sentence of the same length."""
    same_length = "The county council has confirmed the new bus timetable for the autumn term."
    loud = "WOW!!! THE COUNCIL HAS FAILED OUR KIDS AGAIN AND NOBODY LISTENS 😡😡😡"
    alone = encoder().encode([NEW_POLITICAL])[0]
    mixed = encoder().encode([loud, same_length, NEW_POLITICAL, loud, "Well done, choir"])
    assert np.array_equal(mixed[2], alone)
    assert np.array_equal(mixed[0], mixed[3])


def test_a_paraphrase_is_closer_than_another_subject() -> None:
    a, b, c = encoder().encode([
        "The school will be closed on Friday because of the snow.",
        "Heavy snowfall means we are shutting the school on Friday.",
        "Our netball team won the county final on Saturday.",
    ])
    assert float(a @ b) > float(a @ c) + 0.2


def test_new_sentences_land_in_the_right_class() -> None:
    political, ordinary = classify([NEW_POLITICAL, NEW_ORDINARY])
    assert political.label == "political" and political.score - political.ordinary > 0.03
    assert ordinary.label == "ordinary"
    assert political.nearest in exemplar_set().sentences


def test_every_example_file_is_a_class_with_sentences() -> None:
    classes = load_exemplars()
    assert {"ordinary", "political", "personal_view", "non_neutral", "attack"} <= set(classes)
    assert all(len(sentences) >= 50 for sentences in classes.values())
    everything = [s for sentences in classes.values() for s in sentences]
    assert len(everything) == len(set(everything)), "an example sentence is in two classes"


def test_a_broken_example_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "ordinary.yaml").write_text("class: ordinary\nsentences: [fine]\n", "utf-8")
    (tmp_path / "political.yaml").write_text("class: attack\nsentences: [x]\n", "utf-8")
    with pytest.raises(InputError, match=r"political\.yaml.*expected 'class: political'"):
        load_exemplars(tmp_path)


def test_vectors_of_the_examples_are_cached_and_a_bad_cache_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "ordinary.yaml").write_text(
        "class: ordinary\nsentences: ['Sports day is on Friday afternoon.']\n", "utf-8"
    )
    (folder / "political.yaml").write_text(
        "class: political\nsentences: ['Vote them out at the next election.']\n", "utf-8"
    )
    built = exemplar_set(folder)
    cached = list((tmp_path / "postguard").glob("exemplars-*.npy"))
    assert len(cached) == 1 and np.array_equal(np.load(cached[0]), built.vectors)
    good = cached[0].read_bytes()
    for bad in (b"not a numpy file", b"", good[: len(good) // 2]):
        cached[0].write_bytes(bad)
        exemplar_set.cache_clear()
        try:
            again = exemplar_set(folder)
        finally:
            exemplar_set.cache_clear()
        assert np.array_equal(again.vectors, built.vectors)
        assert np.array_equal(np.load(cached[0]), built.vectors), "the bad cache was replaced"


def test_a_learned_finding_names_the_sentence_and_its_closest_example() -> None:
    text = f"Sports day was a joy. {NEW_POLITICAL}"
    findings = [f for f in check_text(text, Config()) if f.rule == "political.learned"]
    assert len(findings) == 1
    span = findings[0].location.text
    assert span is not None and text[span.start:span.end] == NEW_POLITICAL
    assert findings[0].severity is Severity.WARNING
    assert "Closest example: '" in findings[0].explanation


def test_context_applies_to_learned_matches() -> None:
    quoted = f'The union\'s leaflet said: "{NEW_POLITICAL}"'
    lowered = [f for f in check_text(quoted, Config()) if f.rule == "political.learned"]
    assert lowered and all(f.severity is Severity.INFO for f in lowered)
    lesson = f"In our persuasive writing lesson, Year 6 wrote: {NEW_POLITICAL}"
    assert "political.learned" not in [f.rule for f in check_text(lesson, Config())]


def test_short_lines_are_not_embedded() -> None:
    assert not semantic.worth_embedding("Well done, Year 6! 🎉")
    assert semantic.worth_embedding("Well done to all of Year 6 today")


def test_a_trust_can_switch_the_learned_rules_off() -> None:
    config = Config(disabled_rules=["political.learned"])
    assert "political.learned" not in [f.rule for f in check_text(NEW_POLITICAL, config)]


@pytest.mark.parametrize(
    ("similar", "problem"),
    [
        ("{examples: nonsense}", "no example file nonsense.yaml"),
        ("{examples: ordinary}", "no example file ordinary.yaml"),
        ("{examples: political, min_similarity: 2}", "min_similarity must be a number"),
        ("{examples: political, k: 3}", "similar must be a mapping"),
    ],
)
def test_a_bad_similar_key_names_the_pack_and_the_problem(
    tmp_path: Path, similar: str, problem: str
) -> None:
    pack = tmp_path / "trust.yaml"
    pack.write_text(
        "category: political\nrules:\n  - id: political.trust_learned\n    severity: warning\n"
        "    message: m\n    explanation: e\n    similar: " + similar + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=problem):
        load_packs([pack])
