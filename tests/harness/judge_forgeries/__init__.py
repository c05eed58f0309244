"""Submissions that forge their verdict from inside the test process (issue 15).

Each folder holds a 02_gather.py that is the untouched stub (every test fails) plus a forgery.
In one process each forgery turns failures into passes; in judge mode each must earn nothing
(tests/harness/test_judge_mode.py).
"""
