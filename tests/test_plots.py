"""The figure functions on small synthetic inputs: panels, markers, labels and legends."""

import cv2
import matplotlib
import numpy as np
import pandas as pd
import pytest

from astroanom.plots import galaxies as gp
from astroanom.plots import simulation as sp
from astroanom.plots.style import plt

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _bbox_outside(fig, legend, ax) -> bool:
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    lb, ab = legend.get_window_extent(r), ax.get_window_extent(r)
    return not lb.overlaps(ab)


@pytest.fixture
def gal(tmp_path):
    """8 objects with images; 2 artefacts (ids 1, 2) that S ranks first; 3 labelled."""
    n = 8
    paths = []
    for i in range(n):
        p = tmp_path / f"o{i}.png"
        cv2.imwrite(str(p), np.full((20, 20, 3), 20 * i, np.uint8))
        paths.append(str(p))
    objects = pd.DataFrame(
        {
            "id": [f"o{i}" for i in range(n)],
            "image_path": paths,
            "kind": ["normal", "star", "edge_cut", "merger", "normal", "ring", "normal", "tidal"],
            "artefact": [False, True, True, False, False, False, False, False],
            "odd_fraction": [0.1, 0.1, 0.2, 0.95, 0.1, 0.92, 0.0, 0.85],
        }
    )
    active = pd.DataFrame(
        {
            "id": objects["id"],
            "S": [0.1, 5.0, 4.9, 4.0, 0.2, 3.0, 0.3, 2.0],
            "score": [0.1, 0.5, 0.4, 4.5, 0.2, 3.0, 0.3, 2.0],
            "label": [np.nan, 0, 1, 5, np.nan, np.nan, np.nan, np.nan],
        }
    )
    return objects, active


def test_fig4_unlabelled_first_paper_panel_last_tiles_cropped(gal):
    objects, active = gal
    fig = gp.fig4_figure(objects, active, n=3, ncols=3, detector="isolation forest")
    tiles = [ax for ax in fig.axes if ax.get_title()]
    assert len(tiles) == 4 * 3  # (a) unlabelled, (b) detector, (c) random, (d) the paper's
    assert all(" odd " in ax.get_title() for ax in tiles)
    red = [ax for ax in tiles if ax.spines["left"].get_linewidth() == 2.5]
    arte = [ax for ax in tiles if ax.get_title().split()[0] in ("o1", "o2")]
    assert len(red) >= 2 and red == arte  # exactly the artefact tiles; (b) has both
    heads = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(h.startswith("(b) top by isolation forest") and "2 artefact(s)" in h for h in heads)
    a_unl = [ax.get_title() for ax in tiles[:3]]  # (a): top unlabelled by score: o5, o7, o6
    assert [t.split()[0] for t in a_unl] == ["o5", "o7", "o6"]
    assert not any("[L]" in t for t in a_unl)
    assert "[L]" in tiles[9].get_title()  # o3, labelled, tops (d)


def test_object_box_by_hand():
    img = np.zeros((100, 100))
    img[45:55, 45:55] = 1.0  # a 10-px square at the centre: 90 % of its flux within r ~ 6.4
    box = gp.object_box(img, pad=1.5, min_px=4)
    assert 16 <= box.stop - box.start <= 22 and (box.start + box.stop) // 2 == 50
    trail = np.zeros((100, 100))
    trail[50, :] = 1.0  # a line across the stamp: the whole stamp is kept
    assert gp.object_box(trail) == slice(0, 100)


def test_fig4_other_truth_column(gal):
    objects, active = gal
    objects = objects.rename(columns={"odd_fraction": "Class6.1"}).drop(columns="artefact")
    fig = gp.fig4_figure(objects, active, n=3, ncols=3, truth_column="Class6.1")
    tiles = [ax for ax in fig.axes if ax.get_title()]
    assert all("Class6.1 " in ax.get_title() for ax in tiles)
    assert not any(ax.spines["left"].get_linewidth() == 2.5 for ax in tiles)


def test_fig5_marks_budget_and_legend_off_the_axes():
    ns = np.arange(1, 301)
    curves = pd.concat(
        [
            pd.DataFrame({"method": m, "N": ns, "recall": ns // k, "rws": 1.0 / ns})
            for m, k in (("iforest", 10), ("active", 5), ("active_viewed", 8))
        ]
    )
    fig = gp.fig5_figure(curves, n_anomalies=30, n_labels=200)
    a, b = fig.axes[:2]
    for ax in (a, b):
        assert any(list(ln.get_xdata()) == [200, 200] for ln in ax.get_lines())
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "label budget (200 labels)" in labels  # in the legend, not over the curves
    assert all(float(t).is_integer() for t in a.get_yticks())  # counts: integer ticks
    assert any("full ranking" in t for t in labels) and any("as viewed" in t for t in labels)
    styles = {(ln.get_color(), ln.get_linestyle(), ln.get_marker()) for ln in a.get_lines()[:3]}
    assert len(styles) == 3
    assert _bbox_outside(fig, fig.legends[0], a) and _bbox_outside(fig, fig.legends[0], b)


def _map_points(labels: list[float], seed: int = 0) -> pd.DataFrame:
    """A seeded map table (x, y, S, score) of len(labels) points with the given labels."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "S": rng.uniform(0, 5, n),
            "score": rng.uniform(0, 5, n),
            "label": labels,
        }
    )


def test_tsne_axis_labels_score_name_and_one_marker_per_label():
    emb = _map_points([0, 1, 3, 5, 5] + [np.nan] * 95)
    fig = gp.tsne_figure(emb, n_top=4)
    a, b = fig.axes[:2]
    assert "t-SNE 1" in a.get_xlabel() and "t-SNE 2" in a.get_ylabel()
    assert "hat{S}" in b.get_title() and "score S" in a.get_title()
    for ax in (a, b):
        hollow = [
            c
            for c in ax.collections
            if len(c.get_facecolors()) == 0 and not c.get_label().startswith("_")
        ]
        assert sum(len(c.get_offsets()) for c in hollow) == 5  # one ring per labelled object
        top = ax.collections[-1]  # the 4 highest points drawn last, above the markers
        assert len(top.get_offsets()) == 4 and top.get_zorder() > hollow[0].get_zorder()
    fig = gp.tsne_figure(emb.assign(label=[0, 1] + [np.nan] * 98), n_top=4, n_labels=500)
    assert "500 labels, 2 on the map" in fig.axes[1].get_title()
    names = [t.get_text() for t in fig.legends[0].get_texts()]
    assert names == ["labelled, U = 0-1 (irrelevant)"]  # only the groups that appear


def test_fig1_three_panels_rank_maps_and_markers():
    rng = np.random.default_rng(1)
    xy = rng.normal(size=(200, 2))
    before = rng.uniform(0, 5, 200)
    after = before.copy()
    after[:20] += 10  # the first 20 rise to the top
    fig = sp.fig1_heatmaps(xy, before, after, xy[:3], np.array([0, 3, 5]))
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 3 and "change" in panels[2].get_title()
    for ax in panels:  # 200 object dots and 3 label markers
        assert sum(len(c.get_offsets()) for c in ax.collections) == 203
    assert list(sp.ranks(np.array([3.0, 1.0, 2.0]))) == [1.0, 3.0, 2.0]
    assert "t-SNE 1" in panels[0].get_xlabel()


def test_rank_percentile_by_hand():
    assert list(sp.rank_percentile(np.array([3.0, 1.0, 2.0]))) == [100.0, 0.0, 50.0]
    assert list(sp.rank_percentile(np.array([1.0, 1.0, 2.0]))) == [25.0, 25.0, 100.0]


def test_fig6_top_unlabelled_first():
    x = np.linspace(0, 1, 10)
    curves = np.zeros((20, 10))
    classes = np.array([4] * 10 + [0] * 10)
    after = np.arange(20, 0, -1).astype(float)  # object 0 best
    labelled = np.zeros(20, bool)
    labelled[:3] = True
    fig = sp.fig6_examples(x, curves, classes, np.arange(20), after, after, 0, 6, labelled)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:6] == [f"id {i}, class 4" for i in range(3, 9)]  # (a) skips labelled 0-2
    assert titles[-6:-3] == [f"id {i}, class 4 [L]" for i in range(3)]  # (d) the paper's panel


def test_fig9_two_panels_legend_says_seeds_and_bands_start_at_10():
    rows = []
    for seed in (1, 2):
        for stage in ("before", "after"):
            for c in (2, 4):
                for n in range(1, 51):
                    rows.append(
                        {"seed": seed, "stage": stage, "class": c, "N": n, "recall": n + seed}
                    )
    fig = sp.fig9_recall(pd.DataFrame(rows), [2, 4], {2: 3, 4: 5})
    a, b = fig.axes[:2]
    assert _bbox_outside(fig, fig.legends[0], a) and _bbox_outside(fig, fig.legends[0], b)
    title = fig.legends[0].get_title().get_text()
    assert "mean of 2 seeds (1, 2)" in title and "min to max" in title
    band = a.collections[0].get_paths()[0].vertices
    assert band[:, 0].min() >= sp.BAND_MIN_N - 1  # x = N - 1


def test_feature_labels_have_units():
    from astroanom.plots.overview import feature_label

    assert feature_label("V_I") == "V−I [mag]" and feature_label("logP_1") == "log P₁ [d]"
    assert feature_label("A_2") == "A₂ [mag]" and feature_label("f000") == "f000"


def test_map_without_labels_says_so_instead_of_a_second_map(tmp_path):
    """0 labels: S^ = S, so panel (b) is a note on how to label the dataset, not a copy of (a)."""
    emb = _map_points([np.nan] * 100)
    fig = gp.tsne_figure(emb, n_top=4, n_labels=0, dataset="my_cutouts")
    a, b = fig.axes[:2]
    assert len(a.collections) == 2 and sum(len(c.get_offsets()) for c in a.collections) == 104
    assert len(b.collections) == 0 and not b.axison  # no second scatter, no axes
    (note,) = b.texts
    assert "no labels yet" in note.get_text()
    assert "astroanom label my_cutouts" in note.get_text() and "rerun" in note.get_text()
    assert "one retrain" not in " ".join(ax.get_title() for ax in fig.axes)
    assert fig.legends[0].get_texts() == []  # no label groups to list
    gp.tsne_map(emb, tmp_path / "map.png", n_labels=0, dataset="my_cutouts")
    assert (tmp_path / "map.png").stat().st_size > 0
    with_labels = gp.tsne_figure(emb.assign(label=[5.0] + [np.nan] * 99), n_top=4)
    assert "(one retrain, 1 label)" in with_labels.axes[1].get_title()
    assert with_labels.axes[1].collections


def test_map_rings_shrink_where_labelled_objects_crowd():
    """Up to 40 labelled objects on the map: rings of area 26 pt^2, edge 0.8 pt (halo 1.6);
    more: area 12, edge 0.45 (halo 0.9), so a cluster the loop explored keeps its colours."""
    rng = np.random.default_rng(1)
    n = 200
    emb = pd.DataFrame(
        {"x": rng.normal(size=n), "y": rng.normal(size=n), "S": rng.uniform(0, 5, n),
         "score": rng.uniform(0, 5, n)}
    )  # fmt: skip

    def rings(k: int) -> set[tuple[float, float]]:
        lab = np.r_[np.zeros(k), np.full(n - k, np.nan)]
        ax = gp.tsne_figure(emb.assign(label=lab), n_top=4).axes[0]
        hollow = [c for c in ax.collections if len(c.get_facecolors()) == 0]
        return {(float(c.get_sizes()[0]), float(c.get_linewidths()[0])) for c in hollow}

    assert rings(40) == {(26.0, 1.6), (26.0, 0.8)}
    assert rings(41) == {(12.0, 0.9), (12.0, 0.45)}


def test_sky_floor_by_hand():
    """Grey levels 4, 6, 8, 6 / 6, 10, 6, 200: median 6, MAD 1, sigma 1.4826; the knee runs
    from 7.4826 to 8.9652 (<= 12/255: applied)."""
    grey = np.array([[4, 6, 8, 6], [6, 10, 6, 200]], dtype=np.uint8)
    sky, top = gp.sky_level(grey)
    assert sky == pytest.approx(7.4826) and top == pytest.approx(8.9652)
    out = gp.sky_floor(grey, sky, top, 255.0)
    assert out.dtype == np.uint8
    assert out[1, 1] == 10 and out[1, 3] == 200  # above the knee: as it is
    assert (out[grey <= 6] == 0).all()  # the sky: black
    assert out[0, 2] == 3  # on the knee: 8 x (8 - 7.4826) / 1.4826 = 2.79 -> 3
    rgb = np.dstack([grey, grey, grey])
    assert np.array_equal(gp.sky_floor(rgb, sky, top, 255.0)[..., 1], out)  # every channel
    assert gp.sky_floor(grey, 10.0, 20.0, 255.0) is grey  # 20/255 > 12/255: not near-black
    stamp = (5 + np.arange(64 * 64) % 3).astype(np.uint8).reshape(64, 64)  # sky 5, 6, 7
    stamp[28:36, 28:36] = 250  # the object; the knee 7.48 to 8.97: all the sky goes black
    tile = gp._display(stamp)
    assert tile[30, 30] == 250 and tile.sum() == 64 * 250


def test_plots_take_the_fewest_palette_colours_that_reproduce_them(tmp_path):
    """A curve on white: 16 colours (4-bit PNG) within the error bounds; a scatter coloured by a
    colour map keeps 256; a figure with an image keeps full colour at PICTURE_DPI."""
    import io

    from PIL import Image

    from astroanom.plots import style

    style.apply_style()
    x = np.linspace(0, 1, 200)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(x, np.sin(9 * x), color="#1f4e8c")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    full = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    data = style.compact_png(buf.getvalue())
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "P" and len(im.getpalette()) // 3 <= 16
        rms, p999 = style.palette_error(full, np.asarray(im.convert("RGB")))
    assert rms <= style.PALETTE_MAX_RMS and p999 <= style.PALETTE_MAX_P999
    assert not style.has_colour_maps(fig)
    with Image.open(io.BytesIO(style.compact_png(buf.getvalue(), fewer=False))) as im:
        assert len(im.getpalette()) // 3 > 16
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.scatter(x, x, c=x, cmap="viridis")
    assert style.has_colour_maps(fig) and not style.has_pictures(fig)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.zeros((8, 8, 3)))
    style.save(fig, tmp_path / "pic.png")
    with Image.open(tmp_path / "pic.png") as im:
        assert im.mode == "RGB" and im.size[0] <= 2 * style.PICTURE_DPI
    a = np.zeros((2, 2, 3), np.uint8)
    b = a.copy()
    b[0, 0] = [0, 30, 0]  # errors 30, 0, 0, 0: RMS sqrt(900 / 4) = 15; the 99.9th percentile
    rms, p999 = style.palette_error(a, b)  # between 0 and 30 at 0.999 x 3 = 2.997: 29.91
    assert rms == pytest.approx(15.0) and p999 == pytest.approx(29.91)
