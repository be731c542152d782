"""What keeps results/ small: compact rounds.parquet, ranked.csv at 6 digits, JPEG thumbnails."""

import numpy as np
import pandas as pd

from astroanom.evaluate.tables import round_metrics
from astroanom.kinds.image import jpeg_bytes
from astroanom.ordering import rank_order
from astroanom.pipeline.active import compact_rounds
from astroanom.pipeline.figures import significant


def test_compact_rounds_keeps_first_last_top_and_labelled():
    scores = [np.arange(10.0), np.arange(10.0)[::-1].copy(), np.arange(10.0) * 2]
    keep = np.zeros(10, bool)
    keep[5] = True
    cols = compact_rounds(scores, keep, keep_top=2)
    assert list(cols) == ["round00", "round01", "round02"]
    assert np.array_equal(cols["round00"], scores[0]) and np.array_equal(cols["round02"], scores[2])
    mid = cols["round01"]  # top 2 of round 1 are rows 0, 1 (scores 9, 8); row 5 labelled
    assert np.flatnonzero(~np.isnan(mid)).tolist() == [0, 1, 5]
    assert mid[0] == 9.0 and mid[5] == 4.0


def test_compact_rounds_give_the_same_fig7_metrics_as_every_score():
    rng = np.random.default_rng(0)
    scores = [rng.normal(size=500) for _ in range(4)]
    classes = rng.integers(0, 3, 500)
    full = round_metrics(classes, np.array(scores), [0, 10, 20, 30], [1, 2], top=50)
    cols = compact_rounds(scores, np.zeros(500, bool), keep_top=60)
    small = round_metrics(classes, np.array(list(cols.values())), [0, 10, 20, 30], [1, 2], 50)
    pd.testing.assert_frame_equal(full, small)
    assert rank_order(cols["round01"])[:60].tolist() == rank_order(scores[1])[:60].tolist()


def test_significant_digits_and_nan():
    out = significant(np.array([1.23456789, np.nan, 4.0, 0.000123456789]))
    assert out.tolist() == ["1.23457", "", "4", "0.000123457"]


def test_jpeg_thumbnail_of_a_noisy_colour_cutout_is_under_30_kb():
    rng = np.random.default_rng(1)
    yy, xx = np.indices((212, 212))
    blob = 200 * np.exp(-((yy - 106) ** 2 + (xx - 106) ** 2) / (2 * 15.0**2))
    noisy = blob[:, :, None] + rng.normal(0, 8, (212, 212, 3))  # sky noise of 8 counts
    img = np.clip(noisy + 20, 0, 255).astype(np.uint8)
    data = jpeg_bytes(img, min_size=160)
    assert data[:3] == b"\xff\xd8\xff" and len(data) < 30_000
    small = jpeg_bytes(np.zeros((40, 40), np.uint8), min_size=160)  # enlarged x4
    import cv2

    assert cv2.imdecode(np.frombuffer(small, np.uint8), cv2.IMREAD_UNCHANGED).shape == (160, 160)
