"""RatingsModel behaviours issue 13 asked for (the refused inputs are rows of
tests/recommend/test_malformed_recommend.py and docs/input-validation.md)."""

from __future__ import annotations

import numpy as np
import pytest
from malformed import I, R, U

from dmc import RatingsModel
from dmc.cli.main import main as dmc_main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _model(ratings=R, **kwargs):
    model = RatingsModel(rank=2, max_iter=20, shrinkage=1.0, random_state=0, **kwargs)
    return model.fit(U, I, ratings)


def test_recommended_scores_are_predicted_ratings_within_the_range_in_the_same_order():
    wide, narrow = _model(), _model(rating_range=(1.0, 3.5))
    assert np.array_equal(wide.user_factors_, narrow.user_factors_)  # only the range differs
    n_items = wide.items_.size
    for user in (U[0], U[5], 10**6):  # known users, and an unknown one
        items, scores = narrow.recommend(user, k=n_items, exclude_seen=False)
        wide_items, wide_scores = wide.recommend(user, k=n_items, exclude_seen=False)
        assert np.array_equal(items, wide_items)  # ranked before clipping
        assert np.array_equal(scores, np.clip(wide_scores, 1.0, 3.5))
        assert scores.max() <= 3.5 and wide_scores.max() <= 5.0
        assert np.allclose(scores, narrow.predict(np.full(n_items, user), items))
    rec = narrow.recommend_many(np.unique(U), k=n_items, exclude_seen=False)
    assert rec.score.max() <= 3.5 and (rec.score == 3.5).sum() > 1
    top = rec.score[rec.rank == 1]
    assert np.allclose(top, narrow.predict(np.unique(U), rec.item[rec.rank == 1]))


def test_ratings_up_to_the_limit_fit():
    big = _model(R * 2e99)  # ratings up to 1e100
    pred = big.predict(U[:20], I[:20])
    assert np.isfinite(pred).all()
    assert np.allclose(pred / 2e99, _model().predict(U[:20], I[:20]), rtol=0.05)


def test_the_command_line_names_the_ratings_beyond_the_limit(tmp_path, capsys):
    path = tmp_path / "u.data"
    lines = [
        f"{u}\t{i}\t{-1e308 if t == 3 else r:.17g}\n" for t, (u, i, r) in enumerate(zip(U, I, R))
    ]
    path.write_text("".join(lines))
    assert dmc_main(["recommend", str(path), "--no-progress", "--test-fraction", "0"]) == 2
    err = capsys.readouterr().err
    assert "dmc: error: The 'ratings' parameter" in err and "-1e+308" in err
    assert "'values'" not in err and "nan" not in err and "Traceback" not in err
