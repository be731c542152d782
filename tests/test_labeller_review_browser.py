"""The review tools in a real headless Chromium, by keyboard: undo and unlabel, unlabelled-first
kept after a retrain, jump to a position, order by a metadata column, the grid of thumbnails,
and the map's zoom, selection (keys, then a box), selection grid and hover thumbnail."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from test_labeller_browser import CHROMIUM, CHROMIUM_ARGS, DATASET, server  # noqa: F401

from astroanom.ordering import rank_order
from astroanom.store.labels import read_labels

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


def _labels(path) -> dict[str, int]:
    if not path.exists():
        return {}
    frame = read_labels(path)
    return dict(zip(frame["id"], frame["label"], strict=True))


def test_review_tools_by_keyboard(server):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, work = server
    data = work / "results" / DATASET
    csv = work / "labels" / DATASET / "tester.csv"
    S = pd.read_parquet(data / "scores.parquet")["S"].to_numpy()
    by_s = [str(i) for i in rank_order(S)]
    labelled = re.compile

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", timeout=20000)
        assert page.is_checked("#unlabelled-first")  # on by default
        progress = page.locator("#progress-labelled")

        # -- undo: back to unlabelled, then to the label before --------------------------------
        page.keyboard.press("5")
        page.keyboard.press("4")
        expect(progress).to_have_text(labelled(r"^2 / 120"))
        page.keyboard.press("u")
        expect(progress).to_have_text(labelled(r"^1 / 120"))
        expect(page.locator("#obj-id")).to_have_text(by_s[1])  # undo shows the object
        expect(page.locator("#obj-label")).to_have_text("not labelled")
        assert _labels(csv) == {by_s[0]: 5}
        page.keyboard.press("Control+z")
        expect(progress).to_have_text(labelled(r"^0 / 120"))
        assert _labels(csv) == {}
        page.keyboard.press("3")  # by_s[0] as 3, then 2 over it: undo restores the 3
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("2")
        page.keyboard.press("u")
        expect(page.locator("#status")).to_contain_text("labelled 3 again")
        assert _labels(csv) == {by_s[0]: 3}
        # -- unlabel the object shown; undo gives the label back -------------------------------
        expect(page.locator("#obj-id")).to_have_text(by_s[0])
        page.keyboard.press("x")
        expect(progress).to_have_text(labelled(r"^0 / 120"))
        page.keyboard.press("u")
        expect(progress).to_have_text(labelled(r"^1 / 120"))
        assert _labels(csv) == {by_s[0]: 3}

        # -- retrain lands on the first unlabelled object, unlabelled first kept ---------------
        page.keyboard.press("r")
        expect(page.locator("body")).to_have_attribute("data-retrained", "1", timeout=30000)
        assert page.is_checked("#unlabelled-first")
        order = page.evaluate(
            "fetch('/api/order?by=retrained&unlabelled_first=1').then(r => r.json())"
        )["ids"]
        assert order[-1] == by_s[0]  # the labelled one at the end
        assert page.inner_text("#obj-id") == order[0] != by_s[0]
        assert page.inner_text("#progress-position").startswith("position 1 / 120")

        # -- jump to a position ----------------------------------------------------------------
        page.keyboard.press("j")
        page.keyboard.type("37")
        page.keyboard.press("Enter")
        expect(page.locator("#progress-position")).to_have_text(labelled(r"^position 37 / 120"))
        assert page.inner_text("#obj-id") == order[36]
        page.keyboard.press("j")
        page.keyboard.type("999")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_contain_text("from 1 to 120")
        page.keyboard.press("Escape")

        # -- order by a metadata column, lowest first ------------------------------------------
        page.select_option("#order", "meta:omega")
        page.select_option("#order-dir", "asc")
        omega = pd.read_parquet(data / "objects.parquet").set_index("id")["omega"]
        expected = [str(i) for i in omega.sort_values(kind="stable").index if str(i) != by_s[0]]
        expect(page.locator("body")).to_have_attribute("data-order", ",".join(expected[:20]))

        # -- grid: arrows move, digits label and move on, Enter opens --------------------------
        page.keyboard.press("Home")  # in the anomaly tab: resets the zoom, nothing else
        page.keyboard.press("j")
        page.keyboard.type("1")
        page.keyboard.press("Enter")
        page.keyboard.press("v")
        expect(page.locator("#view-grid")).to_be_visible()
        expect(page.locator("#grid .cell")).to_have_count(24)
        assert page.evaluate("document.body.dataset.gridFocus") == expected[0]
        page.keyboard.press("4")  # labels expected[0], focus moves to expected[1]
        page.keyboard.press("ArrowRight")
        page.keyboard.press("1")  # labels expected[2]
        expect(progress).to_have_text(labelled(r"^3 / 120"))
        assert _labels(csv) == {by_s[0]: 3, expected[0]: 4, expected[2]: 1}
        expect(page.locator(f'#grid .cell[data-id="{expected[0]}"] .badge')).to_have_text("4")
        cols = page.evaluate(
            "[...document.querySelectorAll('#grid .cell')]"
            ".filter(c => c.offsetTop === document.querySelector('#grid .cell').offsetTop).length"
        )
        page.keyboard.press("ArrowDown")
        assert page.evaluate("document.body.dataset.gridFocus") == expected[3 + cols]
        page.keyboard.press("PageDown")
        expect(page.locator("#grid-page")).to_have_text(labelled(r"^25–48 of 120"))
        page.screenshot(path=str(work / "grid.png"))
        page.keyboard.press("Enter")
        expect(page.locator("#view-anomalies")).to_be_visible()
        assert page.inner_text("#obj-id") == expected[3 + cols + 24]

        # -- map: keys select the points in view; zoom narrows it; a box drag; grid; hover -----
        page.keyboard.press("m")
        expect(page.locator("#map-source")).to_contain_text("120 points")
        page.keyboard.press("s")
        expect(page.locator("body")).to_have_attribute("data-map-picked", "120")
        for _ in range(3):
            page.keyboard.press("+")
        page.keyboard.press("s")
        zoomed = int(page.evaluate("document.body.dataset.mapPicked"))
        assert 0 < zoomed < 120 and page.evaluate("document.body.dataset.mapZoom") == "1.95"
        page.keyboard.press("Home")
        page.keyboard.press("Escape")
        expect(page.locator("body")).to_have_attribute("data-map-picked", "0")

        emb = pd.read_parquet(data / "embedding.parquet")
        box = page.locator("#map").bounding_box()
        xs, ys = emb["x"].to_numpy(), emb["y"].to_numpy()
        px = 24 + (xs - xs.min()) * (box["width"] - 48) / (xs.max() - xs.min())
        py = box["height"] - 24 - (ys - ys.min()) * (box["height"] - 48) / (ys.max() - ys.min())
        inside = (px < box["width"] / 2) & (py > box["height"] / 2)  # the lower left quarter
        page.keyboard.press("b")
        page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] * 0.8, steps=5)
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 1, steps=5)
        page.mouse.up()
        expect(page.locator("body")).to_have_attribute("data-map-picked", str(int(inside.sum())))
        target = int(np.flatnonzero(inside)[0])
        page.mouse.move(box["x"] + px[target], box["y"] + py[target])
        expect(page.locator("#map-hover")).to_be_visible()
        expect(page.locator("#map-hover")).to_contain_text(str(emb["id"].iloc[target]))
        page.screenshot(path=str(work / "map.png"))
        page.keyboard.press("v")
        n_in = int(inside.sum())
        expect(page.locator("#grid-title")).to_have_text(f"map selection ({n_in})")
        expect(page.locator("#grid .cell")).to_have_count(min(n_in, 24))
        picked = emb["id"].astype(str).to_numpy()[inside]
        by_score = [str(i) for i in picked[rank_order(S[picked.astype(int)])]]
        assert page.evaluate("document.body.dataset.gridFocus") == by_score[0]
        page.keyboard.press("5")
        expect(progress).to_have_text(labelled(r"^4 / 120"))
        assert _labels(csv)[by_score[0]] == 5
        page.keyboard.press("Escape")  # back to the map
        expect(page.locator("#view-map")).to_be_visible()
        assert errors == []
        browser.close()
