"""The topic registry. Modules are imported on first use, so listing names costs nothing."""

from __future__ import annotations

import importlib

from exgen.topics.base import Topic

TOPIC_NAMES: tuple[str, ...] = ("quantization", "autodiff", "compute", "chinchilla", "intensity", "parallelism", "inference",
                             "formats", "lora")


_LOADED: dict[str, Topic] = {}


def get(name: str) -> Topic:
    topic = _LOADED.get(name)
    if topic is None:
        if name not in TOPIC_NAMES:
            raise KeyError(f"unknown topic {name!r} (topics: {', '.join(TOPIC_NAMES)})")
        topic = _LOADED[name] = importlib.import_module(f"exgen.topics.{name}").TOPIC
    return topic
