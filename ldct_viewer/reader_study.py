"""A blinded two-alternative reader study: which of two networks' outputs looks more like the NDCT?

The reader picks the two networks to compare among those on screen (the bundled pair by default).

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


def plan_trials(slices: list[int], n_trials: int, seed: int,
                pair: tuple[str, str] = ("mse", "wgan-gp")) -> list[Trial]:
    """``n_trials`` trials over ``slices`` (each used equally often, up to one, in random order), with
    each network of ``pair`` shown as A in half of them (one more for one network when ``n_trials`` is odd)."""
    first, second = pair
    if first == second:
        raise InputError(f"the reader study compares two different networks, got {first} twice")
    if not slices:
        raise InputError("the reader study needs at least one slice with both networks' outputs")
    if n_trials < 1:
        raise InputError(f"number of trials {n_trials}: must be at least 1")
    rng = np.random.default_rng(seed)
    repeats = -(-n_trials // len(slices))
    order = np.concatenate([rng.permutation(slices) for _ in range(repeats)])[:n_trials]
    first_left = np.zeros(n_trials, dtype=bool)
    first_left[: (n_trials + int(rng.integers(2))) // 2] = True
    rng.shuffle(first_left)
    return [Trial(number=k + 1, index=int(i), left=first if m else second, right=second if m else first)
            for k, (i, m) in enumerate(zip(order, first_left))]


@dataclass(frozen=True)
class Answer:
    trial: Trial
    choice: str  # "A", "B" or "none"
    response_s: float
    position_mm: float | None = None

    @property
    def chosen(self) -> str:
        """The network the reader picked (its key) or "none"."""
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
    """How often each network of ``pair`` was chosen; the test is of ``pair[1]`` against ``pair[0]``."""

    pair: tuple[str, str]
    counts: dict
    p_value: float  # exact two-sided binomial test among decided trials, H0: 50 %
    labels: dict

    @property
    def none(self) -> int:
        return self.counts.get("none", 0)

    def text(self) -> str:
        first, second = self.pair
        a, b = self.counts.get(first, 0), self.counts.get(second, 0)
        decided = a + b
        if not decided:
            return f"No preference in any of {self.none} trial(s)."
        label = lambda key: self.labels.get(key) or METHOD_LABELS.get(key, key)  # noqa: E731
        return (f"{label(second)} chosen in {b} of {decided} decided trials "
                f"({100 * b / decided:.0f} %), {label(first)} in {a}; "
                f"no difference in {self.none}. Two-sided binomial test against 50 %: p = {self.p_value:.3g}.")


def binomial_two_sided_p(k: int, n: int) -> float:
    """Exact two-sided binomial test at p = 0.5: the probability of a split at least as uneven as k of n."""
    if n == 0:
        return 1.0
    extreme = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(extreme + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)


def summarize(answers: list[Answer], labels: dict | None = None) -> Summary:
    """The preference between the two networks the trials compared (the bundled pair's order when it is them)."""
    shown = list(dict.fromkeys(k for a in answers for k in (a.trial.left, a.trial.right)))
    pair = tuple(METHODS) if set(shown) <= set(METHODS) else tuple((shown + ["?", "?"])[:2])
    counts = {m: sum(a.chosen == m for a in answers) for m in (*pair, "none")}
    return Summary(pair=pair, counts=counts, labels=dict(labels or {}),
                   p_value=binomial_two_sided_p(counts[pair[1]], counts[pair[0]] + counts[pair[1]]))
