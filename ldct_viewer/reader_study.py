"""A blinded two-alternative reader study: which network's output looks more like the NDCT?

Metrics say how far an output is from NDCT; only a reader can say whether its texture *looks*
like a normal-dose scan. Each trial shows the NDCT reference and the two outputs of one slice as
"A" and "B" in a random order; the reader picks the one closer to the reference (or "no
difference"). The plan is seeded and balanced (each network on the left in half the trials), the
answers are written after every trial to a CSV (temp file + rename: an interrupted study keeps
every answer given), and the summary gives the preference with an exact two-sided binomial test.
Qt-free: the window in ``ldct_viewer.ui.reader_study`` only shows trials and records answers.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ldct_viewer.atomic import atomic_write_text
from ldct_viewer.errors import InputError
from ldct_viewer.methods import METHOD_LABELS, METHODS

CHOICES = ("A", "B", "none")
COLUMNS = ("trial", "slice", "position_mm", "A", "B", "choice", "chosen", "response_s", "reader", "seed")


@dataclass(frozen=True)
class Trial:
    """One comparison: LDCT slice ``index`` (0-based), with ``left`` shown as A and ``right`` as B."""

    number: int  # 1-based
    index: int
    left: str
    right: str


def plan_trials(slices: list[int], n_trials: int, seed: int) -> list[Trial]:
    """``n_trials`` trials over ``slices`` (each used equally often, up to one, in random order), with
    each network shown as A in half of them (one more for one network when ``n_trials`` is odd)."""
    if not slices:
        raise InputError("the reader study needs at least one slice with both networks' outputs")
    if n_trials < 1:
        raise InputError(f"number of trials {n_trials}: must be at least 1")
    rng = np.random.default_rng(seed)
    repeats = -(-n_trials // len(slices))
    order = np.concatenate([rng.permutation(slices) for _ in range(repeats)])[:n_trials]
    mse_left = np.zeros(n_trials, dtype=bool)
    mse_left[: (n_trials + int(rng.integers(2))) // 2] = True
    rng.shuffle(mse_left)
    return [Trial(number=k + 1, index=int(i), left="mse" if m else "wgan-gp", right="wgan-gp" if m else "mse")
            for k, (i, m) in enumerate(zip(order, mse_left))]


@dataclass(frozen=True)
class Answer:
    trial: Trial
    choice: str  # "A", "B" or "none"
    response_s: float
    position_mm: float | None = None

    @property
    def chosen(self) -> str:
        """The method the reader picked ("mse", "wgan-gp") or "none"."""
        return {"A": self.trial.left, "B": self.trial.right}.get(self.choice, "none")


class StudyLog:
    """The answers so far, rewritten to ``path`` (atomically) after each one. The file is created
    (header only) when the study starts, exclusively: a file that existed before is never touched."""

    def __init__(self, path: str | Path, reader: str = "", seed: int | None = None) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise InputError(f"{self.path.parent}: no such folder")
        try:
            with open(self.path, "x", encoding="utf-8") as f:
                f.write(",".join(COLUMNS) + "\n")
        except FileExistsError:
            raise InputError(f"{self.path}: already exists; choose a new file for this study's answers") from None
        except OSError as err:
            raise InputError(f"{self.path}: cannot be written ({err.strerror})") from None
        self.reader = reader
        self.seed = seed
        self.answers: list[Answer] = []

    def add(self, answer: Answer) -> None:
        if answer.choice not in CHOICES:
            raise ValueError(f"choice must be one of {CHOICES}, got {answer.choice!r}")
        self.answers.append(answer)
        self._write()

    def _write(self) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for a in self.answers:
            t = a.trial
            writer.writerow([t.number, t.index + 1, "" if a.position_mm is None else f"{a.position_mm:.3f}",
                             t.left, t.right, a.choice, a.chosen, f"{a.response_s:.2f}", self.reader,
                             "" if self.seed is None else self.seed])
        atomic_write_text(self.path, buffer.getvalue())


def read_answers(path: str | Path) -> list[dict[str, str]]:
    """The rows of a study CSV, as written by ``StudyLog``."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class Summary:
    mse: int
    wgan_gp: int
    none: int
    p_value: float  # exact two-sided binomial test of wgan-gp vs mse among decided trials, H0: 50 %

    def text(self) -> str:
        decided = self.mse + self.wgan_gp
        if not decided:
            return f"No preference in any of {self.none} trial(s)."
        return (f"{METHOD_LABELS['wgan-gp']} chosen in {self.wgan_gp} of {decided} decided trials "
                f"({100 * self.wgan_gp / decided:.0f} %), {METHOD_LABELS['mse']} in {self.mse}; "
                f"no difference in {self.none}. Two-sided binomial test against 50 %: p = {self.p_value:.3g}.")


def binomial_two_sided_p(k: int, n: int) -> float:
    """Exact two-sided binomial test at p = 0.5: the probability of a split at least as uneven as k of n."""
    if n == 0:
        return 1.0
    extreme = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(extreme + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)


def summarize(answers: list[Answer]) -> Summary:
    counts = {m: sum(a.chosen == m for a in answers) for m in (*METHODS, "none")}
    return Summary(mse=counts["mse"], wgan_gp=counts["wgan-gp"], none=counts["none"],
                   p_value=binomial_two_sided_p(counts["wgan-gp"], counts["mse"] + counts["wgan-gp"]))
