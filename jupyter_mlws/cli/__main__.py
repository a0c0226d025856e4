"""``python -m jupyter_mlws.cli``."""

import sys

from . import main

sys.exit(main())
