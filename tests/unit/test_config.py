"""The trust policy file: settings apply, mistakes are named, safety floors hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from postguard.config import load_config
from postguard.errors import InputError


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "postguard.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_no_file(tmp_path):
    config = load_config(tmp_path / "postguard.toml", explicit=False)
    assert config.channel == "social_media"
    assert config.faces.match_distance == 0.45


def test_named_file_must_exist(tmp_path):
    with pytest.raises(InputError, match="config file not found"):
        load_config(tmp_path / "missing.toml", explicit=True)


def test_settings_apply(tmp_path):
    path = _config(
        tmp_path,
        'register = "mis/consent"\nchannel = "website"\ndisabled_rules = ["political.vote"]\n'
        'allow = ["Strike Academy"]\n[severity]\npolitical = "warning"\n'
        '"offensive.profanity" = "off"\n[faces]\nmatch_distance = 0.4\nredaction = "solid"\n',
    )
    config = load_config(path, explicit=True)
    assert config.register == tmp_path / "mis/consent"
    assert config.channel == "website"
    assert config.allow == ["Strike Academy"]
    assert config.severity_for("political.petition", "political", "error") == "warning"
    assert config.severity_for("offensive.profanity", "offensive", "error") == "off"
    assert config.severity_for("political.vote", "political", "error") == "off"
    assert config.faces.redaction == "solid"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('chanel = "website"', "unknown key 'chanel'"),
        ("[faces]\nmatch_distanse = 0.4", "unknown key 'faces.match_distanse'"),
        ('channel = "tiktok"', "channel 'tiktok' is not one of"),
        ('[severity]\npolitical = "loud"', "severity.political"),
        ('[severity]\npolitics = "off"', "no such category or rule id"),
        ("[faces]\nredaction_blocks = 8", "redaction_blocks must be 1..4"),
        ("[faces]\nmatch_distance = 0.7", "match_distance must be in"),
        ("[faces]\nredaction_scale = 1.0", "at least 1.5"),
        ("[faces]\ndetect_max_side = 0", "detect_max_side below 640"),
        ("[faces]\ncenterface_threshold = 0.9", "centerface_threshold must be in"),
        ("[faces]\nhog_upsample = 5", "hog_upsample must be 0, 1 or 2"),
        ('[faces]\nmin_face_px = "big"', "must be a int"),
        ("channel = ", "invalid TOML"),
        ("[limits]\npost_seconds = 0", "limits must be positive"),
        ("[limits]\nmax_pixels = 5", "unknown key 'limits.max_pixels'"),
    ],
)
def test_mistakes_are_named(tmp_path, text, problem):
    with pytest.raises(InputError, match=problem):
        load_config(_config(tmp_path, text), explicit=True)


def test_trust_pack_adds_a_rule(tmp_path):
    from postguard.text.rules import check_text

    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "local.yaml").write_text(
        "category: attack\nclause: Do not criticise partner organisations.\nrules:\n"
        "  - id: attack.trust_partner\n    severity: warning\n"
        "    message: criticism of a partner organisation\n"
        "    explanation: Partners are named in our posts; criticism reflects on the trust.\n"
        "    phrases: [riverside leisure centre is a disgrace]\n",
        encoding="utf-8",
    )
    config = load_config(_config(tmp_path, '[text]\npacks = ["packs/local.yaml"]\n'), explicit=True)
    text = "Sadly Riverside Leisure Centre is a disgrace."
    findings = [f for f in check_text(text, config) if f.rule == "attack.trust_partner"]
    assert [
        (f.severity.value, text[f.location.text.start : f.location.text.end]) for f in findings
    ] == [("warning", "Riverside Leisure Centre is a disgrace")]
    assert findings[0].clause == "Do not criticise partner organisations."
