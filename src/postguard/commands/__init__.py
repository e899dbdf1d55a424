"""Sub-command groups of the `postguard` command line, one module per group (`cli.py` adds them)."""
