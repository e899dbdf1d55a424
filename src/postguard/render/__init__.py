"""Renderers for a Report: text for people, JSON for scripts, SARIF for code-scanning tools."""
