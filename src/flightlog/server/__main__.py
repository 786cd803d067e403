"""`python -m flightlog.server [options]`: the same as `flightlog server [options]`."""

from __future__ import annotations

import sys

from flightlog.commands.server import main

if __name__ == "__main__":
    sys.exit(main())
