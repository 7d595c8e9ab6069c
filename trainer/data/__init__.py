"""Variable-dose datasets: build them from NDCT series or real pairs, read them memory-mapped."""

from trainer.data.build import DEFAULT_DOSES, DEFAULT_VIEWS, BuildOptions, build_dataset
from trainer.data.conditions import REAL, condition_name, parse_condition
from trainer.data.dataset import FORMAT, SPLITS, VariableDoseDataset
from trainer.data.splits import assign_splits

__all__ = [
    "DEFAULT_DOSES",
    "DEFAULT_VIEWS",
    "FORMAT",
    "REAL",
    "SPLITS",
    "BuildOptions",
    "VariableDoseDataset",
    "assign_splits",
    "build_dataset",
    "condition_name",
    "parse_condition",
]
