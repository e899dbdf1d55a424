"""postguard: check an official school post against the trust's social-media policy."""

__version__ = "0.1.0"
