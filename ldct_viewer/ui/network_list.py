"""Models → Networks: which denoisers the viewer compares, in which order — and applying a change.

``NetworkList`` owns the transition from one list of networks (``ldct_viewer.networks``) to another:
the inference controller keeps the engines of networks that stay, the view state and the panel grid
gain or lose panels, the metrics table its rows, the plots their curves; the list is saved in the
settings and inference restarts (slice on screen first, across every network). ``NetworksDialog``
is the editor (add a checkpoint, remove, move up/down); ``add``/``remove``/``move`` do the same
from code and tests.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from ldct_viewer.methods import BUNDLED_FILES
from ldct_viewer.networks import MAX_NETWORKS, Network, bundled_pair, network_for, panel_titles, to_json

CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth);;All files (*)"


class NetworkList:
    """Applies network lists to a ``MainWindow`` (wiring only: each part updates itself)."""

    def __init__(self, window) -> None:
        self.window = window

    @property
    def networks(self) -> list[Network]:
        return self.window.inference.networks

    def apply(self, networks: list[Network], *, start: bool = True, save: bool = True) -> None:
        """Compare ``networks`` from now on (1 to ``MAX_NETWORKS``, distinct keys)."""
        w = self.window
        if not 1 <= len(networks) <= MAX_NETWORKS:
            raise ValueError(f"compare 1 to {MAX_NETWORKS} networks, got {len(networks)}")
        before = {n.key: n.spec for n in self.networks}
        w.inference.set_networks(list(networks))
        for n in networks:
            if before.get(n.key, object()) != n.spec:
                w.metrics.forget(n.key)  # another checkpoint under this key: its figures are stale
        titles = panel_titles(networks)
        w.state.set_panels(tuple(titles))
        w.panel_grid.set_panels(titles)
        w.metrics.set_measured(("ldct", *w.inference.keys))
        w.metrics_table.set_rows(w.metrics.measured, titles)
        if save:
            w.settings.setValue("networks", to_json(networks))
        w._update_titles()
        w._refresh_all()
        w.panel_grid.fit()
        w._schedule_metrics()
        if start and w.case is not None:
            w.start_inference()

    def set_checkpoint(self, key: str, spec: str | None, *, start: bool = True) -> None:
        """Network ``key`` uses checkpoint ``spec`` (None: the bundled one, for the bundled pair's keys)."""
        if spec is None and key not in BUNDLED_FILES:
            return
        networks = [Network(n.key, n.label, str(spec) if spec else None) if n.key == key else n for n in self.networks]
        self.apply(networks, start=start)
        self.window.settings.setValue(f"checkpoint/{key}", spec or "")

    def add(self, spec: str, label: str | None = None) -> Network | None:
        """Add the checkpoint ``spec`` as the last network (a dialog when the list is full)."""
        if len(self.networks) >= MAX_NETWORKS:
            self.window.report_error("Networks", f"At most {MAX_NETWORKS} networks can be compared; remove one first.")
            return None
        network = network_for(str(spec), self.networks, label)
        self.apply([*self.networks, network])
        return network

    def remove(self, key: str) -> None:
        """Stop comparing network ``key`` (the last one stays: there is always an output panel)."""
        rest = [n for n in self.networks if n.key != key]
        if rest and len(rest) < len(self.networks):
            self.apply(rest)

    def move(self, key: str, step: int) -> None:
        """Move network ``key`` ``step`` places (negative: left) among the output panels."""
        networks = self.networks
        i = next((k for k, n in enumerate(networks) if n.key == key), None)
        if i is None:
            return
        j = min(max(i + step, 0), len(networks) - 1)
        if i != j:
            networks.insert(j, networks.pop(i))
            self.apply(networks)

    def use_bundled(self) -> None:
        self.apply(bundled_pair())

    def choose_and_add(self) -> None:
        """Models → Add network…: a file dialog, then the checkpoint joins the comparison."""
        w = self.window
        start = str(w.settings.value("last_dir/checkpoint", "") or "")
        path, _ = QFileDialog.getOpenFileName(w, "Add a network checkpoint", start, CHECKPOINT_FILTER)
        if path:
            w.settings.setValue("last_dir/checkpoint", str(Path(path).parent))
            self.add(path)

    def edit(self) -> None:
        """Models → Networks…: the editor; its list is applied on OK."""
        dialog = NetworksDialog(self.window, self.networks)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.networks != self.networks:
            self.apply(dialog.networks)


class NetworksDialog(QDialog):
    """The compared networks in panel order: add a checkpoint, remove, move up/down."""

    def __init__(self, parent, networks: list[Network]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Networks")
        self.networks = list(networks)
        self.list = QListWidget()
        buttons = QVBoxLayout()
        self.add_button = QPushButton("Add checkpoint…")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        for button, slot in ((self.add_button, self._add), (self.remove_button, self._remove),
                             (self.up_button, lambda: self._move(-1)), (self.down_button, lambda: self._move(+1))):
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Panels between LDCT and NDCT, left to right (1 to {MAX_NETWORKS} networks, "
                                "any registered architecture):"))
        layout.addLayout(row, 1)
        layout.addWidget(box)
        self.resize(560, 320)
        self._fill(0)

    def _fill(self, current: int) -> None:
        self.list.clear()
        for n in self.networks:
            item = QListWidgetItem(f"{n.label}  ·  {n.path.name}")
            item.setToolTip(str(n.path))
            self.list.addItem(item)
        self.list.setCurrentRow(min(max(current, 0), len(self.networks) - 1))
        self.remove_button.setEnabled(len(self.networks) > 1)
        self.add_button.setEnabled(len(self.networks) < MAX_NETWORKS)

    def add_checkpoint(self, spec: str) -> None:
        self.networks.append(network_for(str(spec), self.networks))
        self._fill(len(self.networks) - 1)

    def _add(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a network checkpoint", "", CHECKPOINT_FILTER)
        if path:
            self.add_checkpoint(path)

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.networks) and len(self.networks) > 1:
            del self.networks[row]
            self._fill(row)

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if 0 <= row < len(self.networks) and 0 <= target < len(self.networks):
            self.networks.insert(target, self.networks.pop(row))
            self._fill(target)
