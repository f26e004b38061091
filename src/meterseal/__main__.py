"""`python -m meterseal`: the same command as the `meterseal` console script."""

import sys

from meterseal.commands import main

sys.exit(main())
