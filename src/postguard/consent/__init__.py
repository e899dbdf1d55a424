"""The photo-consent register: loading, resolving consent, matching faces to pupils."""
