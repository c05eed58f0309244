"""Check your async-kata exercises: `python grade.py` (see `python grade.py --help`)."""

import sys

from kata.cli import main

if __name__ == "__main__":
    sys.exit(main())
