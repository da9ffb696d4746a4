"""Progress over weeks: the measures each session keeps, the progress API on a real SQLite
database behind a real server, and the /progress page in a real Chromium.

Sessions are seeded in the server's own store (rows and report files as the worker leaves
them, dated over five weeks), some with their measures stored and some without (analysed
before measures were kept: the API fills them in).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from conftest_server import ARTIFACTS, ServerProcess

from formcheck.progress import asymmetric, session_measures
from server.storage import Store, new_id

CHROMIUM = Path("/usr/bin/chromium")


def report(exercise: str, **parts) -> dict:
    summary = {"exercise": exercise, **parts.pop("summary", {})}
    return {"schema": "formcheck.report/1", "summary": summary, "reps": [], **parts}


def test_each_exercise_keeps_the_measure_a_coach_follows() -> None:
    ms = session_measures(report("forward-bend", summary={"hip_share": 0.48}))
    assert [(m.name, m.value, m.unit) for m in ms] == [("hip_share", 0.48, "share")]
    holds = [
        {"side": "left", "good_form_s": 20.0},
        {"side": "right", "good_form_s": 12.0},
        {"side": "left", "good_form_s": 5.0},
    ]
    ms = session_measures(report("side-plank", holds=holds))
    assert {(m.side, m.value) for m in ms} == {("left", 25.0), ("right", 12.0)}
    reps = [
        {"side": "left", "leg_elevation_deg": -2.0},
        {"side": "right", "leg_elevation_deg": -16.0},
        {"side": "left", "leg_elevation_deg": -4.0},
    ]
    ms = session_measures(report("bird-dog", reps=reps))
    assert {(m.side, m.value) for m in ms} == {("left", -3.0), ("right", -16.0)}
    rotation = {
        "hip_external_rotation_deg": {"left": 48.0, "right": 31.0},
        "hip_internal_rotation_deg": {"left": 33.0, "right": None},
    }
    ms = session_measures(report("90-90", summary=rotation))
    assert {(m.name, m.side, m.value) for m in ms} == {
        ("hip_external_rotation_deg", "left", 48.0),
        ("hip_external_rotation_deg", "right", 31.0),
        ("hip_internal_rotation_deg", "left", 33.0),
    }
    hydrant = report("fire-hydrant", summary={"hip_abduction_deg": {"left": 44.0, "right": 39.5}})
    assert {(m.side, m.value) for m in session_measures(hydrant)} == {
        ("left", 44.0),
        ("right", 39.5),
    }
    frog = report(
        "frog-squat", summary={"hip_abduction_deg": 38.0, "lumbar_flexion_change_deg": None}
    )
    assert [(m.name, m.side) for m in session_measures(frog)] == [("hip_abduction_deg", None)]
    lift = report("deadlift", summary={"rounded_reps": 2, "judged_reps": 8})
    assert [m.value for m in session_measures(lift)] == [0.25]
    unjudged = report("deadlift", summary={"rounded_reps": 0, "judged_reps": 0})
    assert session_measures(unjudged) == []  # nothing judged: nothing to follow
    assert asymmetric(-3.0, -16.0, "deg") and not asymmetric(-3.0, -10.0, "deg")
    assert asymmetric(25.0, 12.0, "s") and not asymmetric(25.0, 23.0, "s")


def _seed(data_dir: Path) -> dict[str, str]:
    """Sessions over five weeks in a store: a hinge screen getting better, side planks whose
    right side lags, a deadlift set; the last two weeks' measures not yet stored."""
    store = Store(data_dir)
    store.initialise()
    sessions = [
        ("2026-10-26T10:00:00.000Z", report("forward-bend", summary={"hip_share": 0.45})),
        ("2026-11-02T10:00:00.000Z", report("forward-bend", summary={"hip_share": 0.51})),
        ("2026-11-09T10:00:00.000Z", report("forward-bend", summary={"hip_share": 0.58})),
        (
            "2026-11-10T10:00:00.000Z",
            report(
                "side-plank",
                holds=[
                    {"side": "left", "good_form_s": 30.0},
                    {"side": "right", "good_form_s": 25.0},
                ],
            ),
        ),
        (
            "2026-11-24T10:00:00.000Z",
            report(
                "side-plank",
                holds=[
                    {"side": "left", "good_form_s": 40.0},
                    {"side": "right", "good_form_s": 26.0},
                ],
            ),
        ),
        (
            "2026-11-25T10:00:00.000Z",
            report("deadlift", summary={"rounded_reps": 1, "judged_reps": 5}),
        ),
        (
            "2026-11-03T10:00:00.000Z",
            report("90-90", summary={"hip_external_rotation_deg": {"left": 38.0, "right": 35.0}}),
        ),
        (
            "2026-11-17T10:00:00.000Z",
            report("90-90", summary={"hip_external_rotation_deg": {"left": 44.0, "right": 40.0}}),
        ),
    ]
    ids = {}
    for i, (stamp, doc) in enumerate(sessions):
        aid = new_id()
        ex = doc["summary"]["exercise"]
        store.create(aid, f"{ex}-{i}.mp4", "input.mp4", ex, None, False)
        folder = store.folder(aid)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.json").write_text(json.dumps(doc), encoding="utf-8")
        store.mark_done(aid, 0, 0, None, 10.0)
        if stamp < "2026-11-20":  # the later ones were analysed before measures were kept
            store.set_measures(aid, [m.to_dict() for m in session_measures(doc)])
        ids[stamp] = aid
    with sqlite3.connect(store.db_path) as db:
        for stamp, aid in ids.items():
            db.execute("UPDATE analyses SET created_at = ? WHERE id = ?", (stamp, aid))
    return ids


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("progress") / "data"
    ids = _seed(data)
    proc = ServerProcess(data).start()
    yield proc, ids
    proc.stop()


@pytest.mark.slow
def test_progress_api_gives_each_series_over_time(seeded_server) -> None:
    server, ids = seeded_server
    doc = httpx.get(server.url + "/api/progress", timeout=10).json()
    by = {(s["exercise"], s["name"], s["side"]): s for s in doc["series"]}
    share = by[("forward-bend", "hip_share", None)]
    assert [p["value"] for p in share["points"]] == [0.45, 0.51, 0.58]
    assert [p["t"][:10] for p in share["points"]] == ["2026-10-26", "2026-11-02", "2026-11-09"]
    right = by[("side-plank", "good_form_s", "right")]
    assert [p["value"] for p in right["points"]] == [25.0, 26.0]  # filled in from the report
    assert by[("deadlift", "rounding_rate", None)]["points"][0]["value"] == pytest.approx(0.2)
    er = by[("90-90", "hip_external_rotation_deg", "left")]
    assert [p["value"] for p in er["points"]] == [38.0, 44.0]
    assert doc["asymmetry"] == [
        {
            "exercise": "side-plank",
            "name": "good_form_s",
            "label": "Side plank: time in good form",
            "unit": "s",
            "left": 40.0,
            "right": 26.0,
        }
    ]
    # A deleted session leaves the progress too.
    httpx.delete(server.url + f"/api/analyses/{ids['2026-11-25T10:00:00.000Z']}", timeout=10)
    doc = httpx.get(server.url + "/api/progress", timeout=10).json()
    assert not any(s["exercise"] == "deadlift" for s in doc["series"])


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium")
def test_progress_page_plots_the_sessions_and_flags_the_lagging_side(seeded_server) -> None:
    from playwright.sync_api import sync_playwright

    server, _ = seeded_server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/progress")
        page.wait_for_selector(".progress-chart")
        charts = page.locator(".progress-chart")
        names = {charts.nth(i).get_attribute("data-exercise") for i in range(charts.count())}
        assert {"forward-bend", "side-plank", "90-90"} <= names
        ninety = page.locator(".progress-chart[data-exercise='90-90']")
        assert ninety.locator("polyline.series.left").count() == 1
        assert "asymmetric" not in (ninety.get_attribute("class") or "")
        bend = page.locator(".progress-chart[data-exercise=forward-bend]")
        assert bend.locator("circle.point").count() == 3
        assert "58%" in bend.inner_text()
        side = page.locator(".progress-chart[data-exercise=side-plank]")
        assert "asymmetric" in side.get_attribute("class")
        assert side.locator("polyline.series.left").count() == 1
        assert side.locator("polyline.series.right").count() == 1
        flags = page.locator("#asymmetry li")
        assert flags.count() == 1 and "right 26.0 s" in flags.first.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "progress.png"), full_page=True)
        browser.close()
    assert not errors, errors
