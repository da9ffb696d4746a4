"""The exercise registry: one definition read by the CLI, the API, the pages and the analysis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest_server import ServerProcess

from formcheck import exercises
from formcheck.errors import InputError

REPO = Path(__file__).resolve().parents[1]
PLUGIN_ENV = {"FORMCHECK_EXERCISES": "exercise_plugin"}
CHROMIUM = Path("/usr/bin/chromium")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests'}", **PLUGIN_ENV}


def test_builtin_lifts_are_registered_once_with_what_the_pages_need() -> None:
    assert exercises.names()[:5] == ("deadlift", "rdl", "good-morning", "pickup", "squat")
    assert exercises.choices()[0] == "auto"
    entry = next(e for e in exercises.catalogue() if e["name"] == "squat")
    assert entry["label"] == "Squat" and entry["kind"] == "reps" and "side" in entry["views"]
    with pytest.raises(InputError, match="unknown exercise 'curl'.*deadlift"):
        exercises.get("curl")


def test_an_entry_must_be_consistent() -> None:
    with pytest.raises(ValueError, match="kind"):
        exercises.Exercise("x", "X", "sets", ("side",), "side", "")
    with pytest.raises(ValueError, match="preferred view"):
        exercises.Exercise("x", "X", "hold", ("side",), "front", "")


def test_live_sessions_refuse_exercises_they_cannot_coach() -> None:
    from formcheck.live import LiveConfig, LiveSession

    exercises.register(
        exercises.Exercise("video-only", "Video only", "hold", ("side",), "side", "", live=False)
    )
    try:
        assert "video-only" in exercises.choices()
        assert "video-only" not in exercises.live_choices()
        with pytest.raises(InputError, match="not available for 'video-only'"):
            LiveSession(LiveConfig(exercise="video-only"), estimator=lambda image: None)
    finally:
        exercises.unregister("video-only")


def test_view_refusal_names_the_view_and_how_to_film() -> None:
    deadlift = exercises.get("deadlift")
    assert exercises.view_refusal(deadlift, "side", 10.0) is None
    assert exercises.view_refusal(deadlift, "oblique", 40.0) is None
    text = exercises.view_refusal(deadlift, "front", 80.0)
    assert "from the front or back" in text and "Film from the side" in text
    assert exercises.view_refusal(None, "front", 80.0) is not None


def test_an_exercise_defined_in_a_test_file_reaches_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "formcheck", "analyze", "--help"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    assert "wall-sit" in out.stdout
    bare = subprocess.run(
        [sys.executable, "-m", "formcheck", "analyze", "--help"],
        env={k: v for k, v in _env().items() if k != "FORMCHECK_EXERCISES"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert "wall-sit" not in bare.stdout and "deadlift" in bare.stdout


@pytest.fixture(scope="module")
def plugin_server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(
        tmp_path_factory.mktemp("registry") / "data",
        env={"PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests'}", **PLUGIN_ENV},
    ).start()
    yield proc
    proc.stop()


def test_an_exercise_defined_in_a_test_file_reaches_the_api(plugin_server: ServerProcess) -> None:
    config = httpx.get(f"{plugin_server.url}/api/config", timeout=10).json()
    by_name = {e["name"]: e for e in config["exercises"]}
    assert by_name["wall-sit"]["label"] == "Wall sit (test exercise)"
    assert by_name["wall-sit"]["kind"] == "hold"
    assert list(by_name)[:2] == ["auto", "deadlift"]


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium")
def test_an_exercise_defined_in_a_test_file_reaches_both_pages(
    plugin_server: ServerProcess,
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            for path, auto in (("/", "Detect automatically"), ("/live", "Deadlift or other hinge")):
                page.goto(f"{plugin_server.url}{path}")
                page.wait_for_function(
                    "document.querySelectorAll('#exercise option').length > 2", timeout=15000
                )
                options = page.eval_on_selector_all(
                    "#exercise option", "els => els.map(o => [o.value, o.textContent])"
                )
                assert options[0] == ["auto", auto]
                assert ["wall-sit", "Wall sit (test exercise)"] in options
                assert ["rdl", "Romanian deadlift"] in options
                assert ["plank", "Plank"] in options
        finally:
            browser.close()
    assert json.dumps(exercises.catalogue())  # the catalogue is plain JSON
