"""Readable random run names such as "brisk-falcon-417" (the shape MLflow users know)."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "agile", "amber", "ancient", "azure", "bold", "brave", "breezy", "bright", "brisk", "calm",
    "clever", "cosmic", "crimson", "crisp", "curious", "daring", "dapper", "dazzling", "eager",
    "electric", "elegant", "fearless", "fiery", "fluffy", "frosty", "gentle", "gilded", "glowing",
    "golden", "graceful", "hasty", "hidden", "humble", "icy", "jolly", "keen", "kind", "lively",
    "lucky", "lunar", "mellow", "merry", "mighty", "misty", "nimble", "noble", "polar", "proud",
    "quick", "quiet", "radiant", "rapid", "restless", "rustic", "scarlet", "serene", "shiny",
    "silent", "silver", "sleek", "snowy", "solar", "spry", "steady", "stellar", "stormy", "sunny",
    "swift", "tidy", "tranquil", "valiant", "velvet", "vivid", "wandering", "witty", "zesty",
)  # fmt: skip

_NOUNS = (
    "albatross", "antelope", "badger", "beacon", "bison", "canyon", "caribou", "comet", "condor",
    "coral", "cougar", "crane", "delta", "dolphin", "dune", "eagle", "ember", "falcon", "fern",
    "finch", "fjord", "fox", "gazelle", "glacier", "grove", "harbor", "hawk", "heron", "ibis",
    "island", "jaguar", "kestrel", "koala", "lagoon", "lark", "lemur", "lynx", "maple", "meadow",
    "meteor", "moose", "nebula", "newt", "ocelot", "orca", "osprey", "otter", "owl", "panda",
    "pebble", "pelican", "penguin", "pine", "quasar", "raven", "reef", "river", "robin", "salmon",
    "sparrow", "spruce", "summit", "swan", "tapir", "tern", "thunder", "tiger", "trout", "tundra",
    "valley", "walrus", "willow", "wolf", "wren", "yak", "zebra",
)  # fmt: skip

# SystemRandom: runs started in forked workers must not all draw the same name.
_random = random.SystemRandom()


def generate_run_name() -> str:
    """An adjective, a noun and a number up to 999, joined by dashes."""
    return f"{_random.choice(_ADJECTIVES)}-{_random.choice(_NOUNS)}-{_random.randint(0, 999)}"
