"""Text checks: one spaCy pipeline (nlp.py) and one generic rule engine (rules.py) over the
YAML rule packs in packs/, one pack per policy category."""

from postguard.text.rules import Rule, check_text, load_packs

__all__ = ["Rule", "check_text", "load_packs"]
