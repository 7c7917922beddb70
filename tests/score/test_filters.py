"""GitHub's filter globs and ordered patterns (mlprod/score/filters.py)."""

from __future__ import annotations

import pytest

from mlprod.score.filters import RepoFacts, _included, filtered_out


@pytest.mark.parametrize(
    ("value", "patterns", "expected"),
    [
        ("main", ["main"], True),
        ("feature/x", ["feature/*"], True),
        ("feature/x/y", ["feature/*"], False),  # `*` stays within a segment
        ("feature/x/y", ["feature/**"], True),
        ("tests/mlprod/test_bias.py", ["**.py"], True),
        ("tests/mlprod/test_bias.py", ["*.py"], False),
        ("tests/mlprod/test_bias.py", ["**", "!tests/**"], False),  # the last match decides
        ("tests/mlprod/test_bias.py", ["!tests/**", "**"], True),
        ("release-10", ["release-[0-9]+"], True),
        ("mlprod.yaml", ["mlprod.ya?ml"], True),
        ("mlprod.yml", ["mlprod.ya?ml"], True),
    ],
)
def test_patterns_match_as_github_filters_do(value, patterns, expected):
    assert _included(value, patterns) is expected


def test_only_push_and_pull_request_filters_are_read():
    facts = RepoFacts(("main",), ("mlprod.yaml", "tests/mlprod/test_bias.py"))
    on = {
        "push": {"branches": ["dev"]},
        "pull_request": {"branches": ["main"], "paths": ["mlprod.yaml"]},
        "release": {"types": ["published"]},
    }
    assert filtered_out(on, facts) == {"push": "`push` branch filters match no branch of the repository"}
    assert filtered_out(on, RepoFacts()) == {}  # nothing known: nothing refused
