"""End to end in a real headless Chromium: `astroanom label` serves the page; the keyboard labels
three objects; Retrain reorders; labels.csv holds the labels; the map opens a clicked point."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from labeller_helpers import curve_dataset

from astroanom.active.score import RelevanceLearner
from astroanom.ordering import rank_order
from astroanom.store.io import read_features
from astroanom.store.labels import read_labels

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]
DATASET = "curves"


@pytest.fixture
def server(tmp_path):
    """`astroanom label` on a tiny curve dataset, in its own process; yields (url, workdir)."""
    curve_dataset(tmp_path / "results" / DATASET)
    (tmp_path / "mine.yaml").write_text(
        f"datasets:\n  {DATASET}: {{source: {{kind: images, path: imgs}}}}\n"
    )
    exe = Path(sys.executable).with_name("astroanom")
    proc = subprocess.Popen(
        [
            str(exe),
            "label",
            DATASET,
            "--configfile",
            "mine.yaml",
            "--user",
            "tester",
            "--exact-first",
            "5",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    url, seen = None, []
    deadline = time.monotonic() + 60
    while url is None and time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
        seen.append(line)
        m = re.search(r"Open (http://127\.0\.0\.1:\d+/) in your browser", line)
        url = m.group(1) if m else None
    assert url, "the labeller printed no URL:\n" + "".join(seen)
    yield url, tmp_path
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_label_with_keys_retrain_and_map(server):
    from playwright.sync_api import expect, sync_playwright

    url, work = server
    data = work / "results" / DATASET
    labels_csv = work / "labels" / DATASET / "tester.csv"
    S = pd.read_parquet(data / "scores.parquet")["S"].to_numpy()
    by_s = [str(i) for i in rank_order(S)]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", timeout=20000)
        assert page.inner_text("#obj-id") == by_s[0]
        assert page.inner_text("#progress-position").startswith("position 1 / 120")

        for key in ("5", "0", "3"):  # label the three most anomalous, moving on each time
            page.keyboard.press(key)
        expect(page.locator("#progress-labelled")).to_have_text(re.compile(r"^3 / 120 labelled"))
        assert page.inner_text("#obj-id") == by_s[3]
        frame = read_labels(labels_csv)
        assert frame[["id", "label", "user"]].values.tolist() == [
            [by_s[0], 5, "tester"],
            [by_s[1], 0, "tester"],
            [by_s[2], 3, "tester"],
        ]

        page.keyboard.press("ArrowLeft")
        expect(page.locator("#obj-id")).to_have_text(by_s[2])
        expect(page.locator("#obj-label")).to_have_text("3")
        page.keyboard.press("ArrowRight")

        page.click("#retrain")
        expect(page.locator("body")).to_have_attribute("data-retrained", "3", timeout=30000)
        assert page.input_value("#order") == "retrained"
        shown = page.evaluate("document.body.dataset.order").split(",")
        _, X = read_features(data / "features.parquet")
        rows = np.array([int(by_s[0]), int(by_s[1]), int(by_s[2])])
        expected = RelevanceLearner(n_estimators=100, seed=1).retrain(  # the config's seed
            X, S, rows, np.array([5.0, 0.0, 3.0]), alpha=1.0
        )
        done = {by_s[0], by_s[1], by_s[2]}
        ranked = [str(i) for i in rank_order(expected.score)]
        # unlabelled first (the default): the retrain lands on the best unlabelled object
        new_order = [i for i in ranked if i not in done] + [i for i in ranked if i in done]
        assert shown == new_order[:20]
        assert shown != by_s[:20]
        assert page.inner_text("#obj-id") == new_order[0]
        assert page.inner_text("#obj-score") != "retrain first"

        # Reloading resumes at the same object and order.
        page.keyboard.press("ArrowRight")
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        assert page.inner_text("#obj-id") == new_order[1]
        assert page.input_value("#order") == "retrained"

        # Delete asks first; cancelling keeps the labels.
        page.keyboard.press("Delete")
        expect(page.locator("#confirm-delete")).to_have_attribute("open", "")
        page.keyboard.press("Escape")
        expect(page.locator("#confirm-delete")).not_to_have_attribute("open", "")
        assert len(read_labels(labels_csv)) == 3

        # Map tab: clicking a point opens that object.
        page.keyboard.press("m")
        expect(page.locator("#map-source")).to_contain_text("120 points · embedding.parquet")
        emb = pd.read_parquet(data / "embedding.parquet")
        box = page.locator("#map").bounding_box()
        target = int(np.argmax(emb["x"].to_numpy()))  # the right-most point lies on the edge
        xs, ys = emb["x"].to_numpy(), emb["y"].to_numpy()
        px = 24 + (xs[target] - xs.min()) * (box["width"] - 48) / (xs.max() - xs.min())
        py = (
            box["height"]
            - 24
            - (ys[target] - ys.min()) * (box["height"] - 48) / (ys.max() - ys.min())
        )
        page.mouse.click(box["x"] + px, box["y"] + py)
        oid = str(emb["id"].iloc[target])
        expect(page.locator("#map-id")).to_have_text(oid)
        page.screenshot(path=str(work / "map.png"))
        page.keyboard.press("Enter")
        expect(page.locator("#obj-id")).to_have_text(oid)
        assert page.is_visible("#view-anomalies")
        page.screenshot(path=str(work / "labeller.png"))
        assert errors == []
        browser.close()
