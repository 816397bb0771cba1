"""``python -m dmc.cli``."""

import sys

from .main import main

sys.exit(main())
