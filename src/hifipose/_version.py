"""The one source of hifipose's version number."""

__version__ = "0.1.0"
