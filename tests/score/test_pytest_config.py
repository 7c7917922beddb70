"""What pytest reads besides the generated suite: a config file's `addopts` and a conftest
above the tests folder apply to every run (CI's too), so they keep a concern below 2.

Each case once reached 20/20 with an honest run's results and a CI job that can fail.
"""

from __future__ import annotations

import pytest

from mlprod.score.pytestcfg import config_problems

WHY = "what pytest reads besides the generated suite changes every run: "


def scored(project, files: dict[str, str]):
    project.spec("bias", "release")
    project.generate()
    project.ci()
    project.write(files)
    project.commit()
    project.record()
    return project.row("bias")


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"pytest.ini": "[pytest]\naddopts = -k nothing\n"}, "pytest.ini:2: addopts `-k nothing` selects"),
        (
            {"pyproject.toml": "[tool.pytest.ini_options]\naddopts = ['-q', '--co']\n"},
            "pyproject.toml:2: addopts `--co` runs no test",
        ),
        ({"tox.ini": "[pytest]\naddopts = -m slow\n"}, "tox.ini:2: addopts `-m slow` selects"),
        (
            {"pytest.ini": "[pytest]\naddopts = -p forcepass\n"},
            "pytest.ini:2: addopts `-p forcepass` loads a plugin",
        ),
        ({"setup.cfg": "[tool:pytest]\naddopts = --deselect tests/mlprod/test_bias.py\n"}, "setup.cfg:2:"),
        (  # the nearest config file is the one pytest reads
            {"tests/pytest.ini": "[pytest]\naddopts = -k nothing\n", "pytest.ini": "[pytest]\n"},
            "tests/pytest.ini:2: addopts `-k nothing`",
        ),
        (  # what pytest collects: a file or function pattern that leaves generated tests out
            {"pytest.ini": "[pytest]\npython_functions = test_no_*\n"},
            "pytest.ini:2: `python_files`/`python_functions` do not collect",
        ),
        (
            {"setup.cfg": "[tool:pytest]\npython_files = check_*.py\n"},
            "setup.cfg:2: `python_files`/`python_functions` do not collect",
        ),
        (
            {"conftest.py": "import pytest\n"},
            "conftest.py: a conftest above tests/mlprod applies to every generated test",
        ),
        ({"tests/conftest.py": ""}, "tests/conftest.py: a conftest above tests/mlprod"),
        (  # pytest imports it in the same session: a module-level patch of `ensure` passes every check
            {"tests/mlprod/test_aaa.py": "import mlprod.checks.project as p\n\np.ensure = print\n"},
            "tests/mlprod/test_aaa.py: not written by generate, in tests/mlprod: pytest imports it",
        ),
        (
            {"tests/mlprod/helpers/util.py": "", "tests/mlprod/helpers/conftest.py": ""},
            "tests/mlprod/helpers/conftest.py and 1 more: not written by generate",
        ),
    ],
)
def test_a_config_or_outer_conftest_that_changes_every_run_keeps_the_concern_at_1(project, files, reason):
    row = scored(project, files)
    assert row.level == 1
    assert row.why.startswith(WHY + reason)
    assert "move a conftest.py above the tests, or a file generate does not write," in row.fix


@pytest.mark.parametrize(
    "files",
    [
        {"pytest.ini": "[pytest]\naddopts = -q -p no:cacheprovider -ra\n"},
        {"pytest.ini": "[pytest]\npython_files = test_*.py check_*.py\npython_functions = test check_*\n"},
        {"tox.ini": "[tox]\nenvlist = py311\n", "setup.cfg": "[metadata]\nname = x\n"},
        {"pyproject.toml": "[tool.ruff]\nline-length = 100\n", "tests/unit/conftest.py": "import pytest\n"},
        # the nearest config file wins: the outer one is not read
        {"tests/pytest.ini": "[pytest]\n", "pytest.ini": "[pytest]\naddopts = -k nothing\n"},
    ],
)
def test_a_config_that_runs_every_test_and_a_conftest_beside_the_tests_count(project, files):
    row = scored(project, files)
    assert (row.level, row.why) == (2, "")


def test_a_conftest_above_the_project_in_its_repository_applies_too(make_project, tmp_path):
    top = make_project("repo")
    (top.root / "conftest.py").write_text("import pytest\n")
    sub = top.root / "ml"
    sub.mkdir()
    assert config_problems(sub, "tests/mlprod", top.root) == [
        "../conftest.py: a conftest above tests/mlprod applies to every generated test"
        " and can change its outcome"
    ]
    assert config_problems(sub, "tests/mlprod", sub) == []
