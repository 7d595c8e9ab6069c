"""The reader study's plan, answers file and statistics (``ldct_viewer.reader_study``), no Qt."""

from collections import Counter

import pytest

from ldct_viewer.errors import InputError
from ldct_viewer.reader_study import (Answer, StudyLog, Trial, binomial_two_sided_p, plan_trials, read_answers,
                                      summarize)


def test_plan_is_seeded_balanced_and_uses_every_slice_equally():
    plan = plan_trials([3, 5, 8, 9], 12, seed=4)
    assert [t.number for t in plan] == list(range(1, 13))
    assert Counter(t.index for t in plan) == {3: 3, 5: 3, 8: 3, 9: 3}
    assert Counter(t.left for t in plan) == {"mse": 6, "wgan-gp": 6}
    assert all({t.left, t.right} == {"mse", "wgan-gp"} for t in plan)
    assert plan == plan_trials([3, 5, 8, 9], 12, seed=4)
    assert plan != plan_trials([3, 5, 8, 9], 12, seed=5)
    odd = plan_trials([1, 2], 7, seed=0)
    assert sorted(Counter(t.left for t in odd).values()) == [3, 4]
    assert set(Counter(t.index for t in odd).values()) <= {3, 4}


def test_plan_refuses_nothing_to_show():
    with pytest.raises(InputError, match="at least one slice"):
        plan_trials([], 4, seed=0)
    with pytest.raises(InputError, match="at least 1"):
        plan_trials([1], 0, seed=0)


def test_answers_are_written_after_each_one_and_never_over_an_existing_file(tmp_path):
    path = tmp_path / "answers.csv"
    log = StudyLog(path, reader="AB", seed=7)
    assert read_answers(path) == []  # the name is taken at once, header only
    log.add(Answer(Trial(1, 4, "wgan-gp", "mse"), "A", 2.5, position_mm=-12.0))
    assert [r["chosen"] for r in read_answers(path)] == ["wgan-gp"]
    log.add(Answer(Trial(2, 0, "wgan-gp", "mse"), "B", 1.0))
    log.add(Answer(Trial(3, 2, "mse", "wgan-gp"), "none", 3.0))
    rows = read_answers(path)
    assert [(r["trial"], r["slice"], r["A"], r["choice"], r["chosen"]) for r in rows] == [
        ("1", "5", "wgan-gp", "A", "wgan-gp"), ("2", "1", "wgan-gp", "B", "mse"), ("3", "3", "mse", "none", "none")]
    assert rows[0]["position_mm"] == "-12.000" and rows[0]["reader"] == "AB" and rows[0]["seed"] == "7"
    assert not list(tmp_path.glob(".*part"))  # the temp file was renamed into place
    with pytest.raises(InputError, match="already exists"):
        StudyLog(path)
    with pytest.raises(InputError, match="no such folder"):
        StudyLog(tmp_path / "missing" / "a.csv")
    with pytest.raises(ValueError, match="choice"):
        log.add(Answer(Trial(4, 0, "mse", "wgan-gp"), "C", 1.0))


def test_exact_binomial_p_values():
    assert binomial_two_sided_p(0, 5) == pytest.approx(2 / 32)
    assert binomial_two_sided_p(1, 10) == pytest.approx(2 * 11 / 1024)
    assert binomial_two_sided_p(9, 10) == binomial_two_sided_p(1, 10)
    assert binomial_two_sided_p(5, 10) == 1.0 and binomial_two_sided_p(0, 0) == 1.0


def test_summary_counts_the_methods_behind_a_and_b():
    answers = [Answer(Trial(1, 0, "wgan-gp", "mse"), "A", 1), Answer(Trial(2, 0, "mse", "wgan-gp"), "B", 1),
               Answer(Trial(3, 0, "mse", "wgan-gp"), "A", 1), Answer(Trial(4, 0, "mse", "wgan-gp"), "none", 1)]
    s = summarize(answers)
    assert (s.counts["wgan-gp"], s.counts["mse"], s.none) == (2, 1, 1)
    assert s.p_value == pytest.approx(1.0)
    assert "chosen in 2 of 3 decided trials" in s.text() and "p = 1" in s.text()
