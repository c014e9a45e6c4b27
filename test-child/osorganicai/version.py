"""The runtime's version: the template version this package was released with, shown by /api/health."""

__version__ = "0.2.0"
