"""``python -m autograd_lite``: the ``autograd-lite`` command, for when the console script is not on PATH."""

import sys

from autograd_lite.cli import main

if __name__ == "__main__":
    sys.exit(main())
