"""The batch grader: `python grade.py batch SUBMISSION... --out DIR` grades a whole class at once. Each
submission (a student's directory or .zip) is read without being run (`submissions`), each student's
exercise files are tested in an isolated child process (`isolation`), the results are scored with the
points declared in points.toml (`points`), and the scores are written as files an instructor can
import into a gradebook (`reports`).
"""
