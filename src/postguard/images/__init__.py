"""Image checks: safe decoding, metadata, face detection and redaction."""
