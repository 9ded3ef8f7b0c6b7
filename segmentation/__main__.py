"""``python -m segmentation``: see :mod:`segmentation.cli`."""

import sys

from .cli import main

sys.exit(main())
