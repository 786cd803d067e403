"""Command groups of the `flightlog` CLI (see flightlog/cli.py)."""
