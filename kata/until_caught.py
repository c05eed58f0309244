"""`pytest --kata-until-caught STEM[,STEM...]`: an exercise's tests stop once one has caught the code.

The self-check asks only one thing of most wrong variants: that some test fails them. Once one
has failed, not on time (a busy machine can cause that, and a second run may clear it), the
variant is caught, and the rest of its exercise's tests are skipped instead of run: their
waiting and CPU buy nothing. Other exercises in the same run are untouched.
"""

from __future__ import annotations

import pytest

from kata.catalog import exercise_stem
from kata.report import failed_only_on_time

OPTION = "--kata-until-caught"
SKIPPED = "not run: an earlier test of this exercise already caught the code (--kata-until-caught)"


class UntilCaught:
    """A pytest plugin object: skips the tests of `stems` whose exercise has already failed a test."""

    def __init__(self, stems: set[str]) -> None:
        self.stems = stems
        self.caught: set[str] = set()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if exercise_stem(item.nodeid) in self.caught:
            pytest.skip(SKIPPED)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and not failed_only_on_time(report):
            stem = exercise_stem(report.nodeid)
            if stem in self.stems:
                self.caught.add(stem)


def stems_option(value: str) -> set[str]:
    return {stem.strip() for stem in value.split(",") if stem.strip()}
