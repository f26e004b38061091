"""`python -m meterseal`: the same command as the `meterseal` console script."""

import sys

from meterseal.cli import main

sys.exit(main())
