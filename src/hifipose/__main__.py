"""``python -m hifipose`` runs the command line."""

import sys

from hifipose.cli import main

sys.exit(main())
