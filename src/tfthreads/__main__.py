"""``python -m tfthreads``: the same as the ``tfthreads`` command."""

import sys

from tfthreads.cli import main

if __name__ == "__main__":
    sys.exit(main())
