"""Fixtures of the score tests; they live in scorekit.py so test modules can import its
helpers by a unique name (`from conftest import ...` would pick whichever conftest pytest
imported first)."""

from scorekit import _isolated_git, full, junit, make_project, project

__all__ = ["_isolated_git", "full", "junit", "make_project", "project"]
