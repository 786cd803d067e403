"""`python -m flightlog COMMAND ...`: the same as the `flightlog` command (e.g. `server`, `ui`)."""

from __future__ import annotations

import sys

from flightlog.cli import main

if __name__ == "__main__":
    sys.exit(main())
