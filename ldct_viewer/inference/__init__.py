"""Inference: device choice, fast RED-CNN evaluation, tiling, caching and focus-first scheduling."""

from ldct_viewer.inference.engine import Engine, EngineStats

__all__ = ["Engine", "EngineStats"]
