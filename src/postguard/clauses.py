"""The policy sentences postguard enforces, one per category (DESIGN.md §1).

Text rules carry their own, more specific clause in their YAML pack; image, metadata, name and
input checks cite these. They are quoted in every finding and as SARIF rule help text, so a comms
officer sees the policy line, not just a rule id.
"""

from __future__ import annotations

CLAUSES: dict[str, str] = {
    "political": "Official posts must not take a side in any political debate or express "
    "political opinions.",
    "personal_view": "Official posts express only neutral opinions and no personal views.",
    "non_neutral": "Use neutral, sensitive language on anything controversial.",
    "offensive": "Use appropriate language; nothing that could be construed as offensive.",
    "attack": "Posts must not attack, insult, criticise, abuse or defame any person or "
    "organisation.",
    "pupil_data": "Do not publish information that could identify a pupil, or pupils' personal "
    "details.",
    "full_name_with_image": "Pupils' full names are never used alongside images or videos in "
    "which they are present.",
    "face_no_consent": "Check the consent record for that pupil and for the exact processing "
    "activity before posting; where consent is not in place, blur the pupil.",
    "consent_register": "Check the consent record for that pupil and for the exact processing "
    "activity before posting.",
    "location_metadata": "Publish no additional identifying information about a pupil, "
    "including location metadata.",
    "identifying_metadata": "Publish no additional identifying information about a pupil, "
    "including names and other identifying metadata.",
    "unreadable_input": "Every part of a post must be checked before it is published; what "
    "cannot be checked cannot be posted.",
}
