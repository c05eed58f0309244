"""async-kata: the grader, the self-check and the shared test machinery.

`kata.testing` holds what the exercise tests import (fakes, timelines, checks);
`kata.plugin` is the pytest plugin that loads learner code and guards every test;
`kata.selfcheck` proves solutions pass and stubs fail; `kata.cli` backs grade.py.
"""
