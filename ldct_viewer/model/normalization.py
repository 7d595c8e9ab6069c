"""The HU ↔ network-input mapping, stored in each checkpoint so training and inference agree."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class Normalization:
    """Linear map of ``[hu_min, hu_max]`` HU onto ``[0, 1]`` (values outside are not clipped).

    The default puts air (-1000 HU) at 0.256, not at the 0 where RED-CNN's output ReLU cuts off: with
    -1024 HU as zero, a residual of -24 HU in air is clamped and its gradient dies, and training left a
    -24 HU bias over the air around the body. Checkpoints store their own range, so older ones still load."""

    hu_min: float = -2048.0
    hu_max: float = 2048.0

    def __post_init__(self) -> None:
        if not self.hu_max > self.hu_min:
            raise ValueError(f"hu_max ({self.hu_max}) must exceed hu_min ({self.hu_min})")

    @property
    def scale(self) -> float:
        return float(self.hu_max - self.hu_min)

    def to_model(self, hu: Tensor) -> Tensor:
        return (hu - self.hu_min) / self.scale

    def to_hu(self, x: Tensor) -> Tensor:
        return x * self.scale + self.hu_min

    def to_dict(self) -> dict:
        return {"kind": "linear", "hu_min": float(self.hu_min), "hu_max": float(self.hu_max)}

    @classmethod
    def from_dict(cls, d: dict) -> "Normalization":
        kind = d.get("kind", "linear")
        if kind != "linear":
            raise ValueError(f"unknown normalization kind {kind!r}")
        return cls(hu_min=float(d["hu_min"]), hu_max=float(d["hu_max"]))
