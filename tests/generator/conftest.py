"""Fixtures of the generator tests (defined in genkit.py, which the tests also import)."""

from genkit import cli, project

__all__ = ["cli", "project"]
