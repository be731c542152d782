"""Sigma clipping (vs astropy) and the central-contour cut of the galaxy preprocessing."""

import numpy as np
import pytest
from astropy.stats import sigma_clipped_stats as astropy_stats

from astroanom.features.preprocess import PreprocessFailure, sigma_clip_central, sigma_clipped_stats
from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, render


def _astropy(x):
    mean, median, std = astropy_stats(x, sigma=3.0, maxiters=5)
    return float(mean), float(median), float(std)


@pytest.mark.parametrize("i", [0, 1, 2])
def test_clip_matches_astropy_on_8bit_galaxies(i):
    # exact histogram path: equal to astropy to round-off (stated tolerance 1e-9 relative)
    plane = render(i, ["normal", "merger", "star"][i], 3, SyntheticGalaxyConfig())[:, :, 0]
    ours = sigma_clipped_stats(plane)
    mean, median, std = _astropy(plane)
    assert ours.median == median
    assert ours.mean == pytest.approx(mean, rel=1e-9)
    assert ours.std == pytest.approx(std, rel=1e-9)


@pytest.mark.filterwarnings("ignore:Input data contains invalid values")
def test_clip_matches_astropy_on_float_images_with_nan():
    rng = np.random.default_rng(5)
    img = rng.normal(100.0, 2.0, size=(300, 257))
    img[100:140, 90:150] += 500.0  # a bright source to be clipped
    img[0, :10] = np.nan
    ours = sigma_clipped_stats(img)
    mean, median, std = _astropy(img)
    assert ours.median == pytest.approx(median, rel=1e-12)
    assert ours.mean == pytest.approx(mean, rel=1e-12)
    assert ours.std == pytest.approx(std, rel=1e-9)
    # subsample path (1 pixel in 8): within 2 % of the noise std on median and std
    sub = sigma_clipped_stats(img, max_pixels=10_000)
    assert abs(sub.median - median) < 0.02 * std
    assert sub.std == pytest.approx(std, rel=0.02)


def test_central_contour_keeps_only_the_central_source():
    img = np.zeros((101, 101), dtype=np.uint8) + 10
    img[45:56, 40:61] = 200  # central source
    img[5:15, 5:15] = 250  # off-centre bright object
    pre = sigma_clip_central(img)
    full = pre.full()
    assert full[50, 50] == 200 and full[10, 10] == 0
    assert np.count_nonzero(full) == 11 * 21


@pytest.mark.parametrize(
    ("img", "reason"),
    [
        (np.zeros((64, 64), dtype=np.uint8), "constant image"),
        (np.full((64, 64), np.nan, dtype=np.float32), "no finite pixel"),
    ],
)
def test_bad_images_fail_with_reason(img, reason):
    with pytest.raises(PreprocessFailure, match=reason):
        sigma_clip_central(img)


def test_off_centre_only_source_fails():
    img = np.full((64, 64), 10, dtype=np.uint8)
    img[2:10, 2:10] = 240
    with pytest.raises(PreprocessFailure, match="encloses the image centre"):
        sigma_clip_central(img)


def test_ring_around_an_island_core_is_kept_whole():
    """The contour enclosing the centre is the ring's outer one; filled, it keeps the core."""
    yy, xx = np.mgrid[0:121, 0:121]
    r = np.hypot(xx - 60, yy - 60)
    img = np.full((121, 121), 10, dtype=np.uint8)
    img[r < 6] = 220  # core, separated from the ring by a faint gap
    img[(r > 25) & (r < 32)] = 150  # ring
    img[3:8, 3:8] = 200  # off-centre object, removed
    full = sigma_clip_central(img).full()
    assert full[60, 60] == 220 and full[60, 60 + 28] == 150 and full[60, 60 + 15] == 10
    assert full[5, 5] == 0


def test_central_mask_matches_contour_scan():
    """Flood-fill implementation == OpenCV external contour enclosing the centre, filled."""
    import cv2

    from astroanom.features.preprocess import central_mask

    rng = np.random.default_rng(2)
    for _ in range(20):
        b = (rng.random((90, 90)) < 0.55).astype(np.uint8)
        b[40:50, 40:50] = 1
        contours, _ = cv2.findContours(b, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        c = next(c for c in contours if cv2.pointPolygonTest(c, (45.0, 45.0), False) >= 0)
        ref = np.zeros_like(b)
        cv2.drawContours(ref, [c], 0, 1, thickness=-1)
        mask, (x, y, w, h) = central_mask(b, (45, 45))
        ours = np.zeros_like(b)
        ours[y : y + h, x : x + w] = mask
        assert np.array_equal(ours, ref)
