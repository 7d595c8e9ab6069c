"""Builders shared by the GUI tests: small random RED-CNN checkpoints and a shown MainWindow."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import QSettings

from ldct_viewer.model import REDCNN, Normalization, save_checkpoint


def make_checkpoint(path: Path, mode: str, seed: int, width: int = 4) -> Path:
    torch.manual_seed(seed)
    save_checkpoint(path, REDCNN(width=width), mode=mode, normalization=Normalization(),
                    config={"width": width}, data={"dataset": "unit-test phantom"},
                    evaluation={"rmse_hu": 12.5})
    return path


def make_checkpoints(folder: Path, width: int = 4) -> dict[str, Path]:
    """The viewer's two model slots filled with different random models of ``width`` filters."""
    return {"mse": make_checkpoint(folder / "mse.pt", "mse", 1, width),
            "wgan-gp": make_checkpoint(folder / "wgan.pt", "wgan-gp", 2, width)}


def make_window(qtbot, tmp_path, checkpoints=None, settings_name="settings.ini", size=(1200, 600)):
    from ldct_viewer.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / settings_name), QSettings.Format.IniFormat)
    specs = None if checkpoints is None else {k: str(v) for k, v in checkpoints.items()}
    window = MainWindow(settings=settings, device="cpu", checkpoints=specs)
    qtbot.addWidget(window)
    if size:
        window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    return window


def make_architecture_checkpoint(path: Path, arch: str, params: dict, seed: int, mode: str = "mse") -> Path:
    """A small random checkpoint of any registered architecture (``unet``, ``restormer``, ``redcnn``)."""
    from ldct_viewer.model import build

    torch.manual_seed(seed)
    save_checkpoint(path, build(arch, params), mode=mode, normalization=Normalization(),
                    config={"model": {"arch": arch, **params}}, data={"dataset": "unit-test phantom"})
    return path


def make_four_networks(folder: Path) -> list[str]:
    """Four networks of three architectures: the two tiny RED-CNN slots, a tiny U-Net and a tiny Restormer."""
    pair = make_checkpoints(folder)
    unet = make_architecture_checkpoint(folder / "unet.pt", "unet", {"width": 4, "depth": 2}, 3)
    restormer = make_architecture_checkpoint(folder / "restormer.pt", "restormer",
                                             {"width": 4, "blocks": 1, "heads": 2}, 4)
    return [str(pair["mse"]), str(pair["wgan-gp"]), str(unet), str(restormer)]
