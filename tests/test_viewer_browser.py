"""The viewer pages in a real headless Chromium: upload, overlay in sync, seeking, annotated MP4.

Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from conftest_server import ARTIFACTS, ROUNDED_CLIP, ServerProcess, footage

OBLIQUE_CLIP = "bichraix_good002.mp4"  # 45 deg front-oblique

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]

# Hash of the overlay canvas and count of drawn (non-transparent) pixels.
CANVAS_STATE = """() => {
  const c = document.getElementById('overlay');
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let drawn = 0, hash = 0;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] > 0) drawn++;
    hash = (hash * 31 + data[i - 3] + data[i - 2] * 7 + data[i - 1] * 13 + data[i]) | 0;
  }
  return {drawn, hash, w: c.width, h: c.height};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(tmp_path_factory.mktemp("browser") / "data").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def viewer_url(server: ServerProcess, browser) -> str:
    """Upload the rounded clip through the upload page and return the viewer URL it links to."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/")
    page.set_input_files("#file-input", str(footage(ROUNDED_CLIP)))
    link = page.locator(".open-result")
    link.wait_for(timeout=180_000)
    assert "rounded" in page.locator(".upload-item .upload-status").first.inner_text()
    page.locator(f".history-item .name:text('{ROUNDED_CLIP}')").wait_for(timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "upload-page.png"), full_page=True)
    href = link.get_attribute("href")
    page.close()
    assert not errors, errors
    return server.url + href


def _open_viewer(browser, url: str, width: int = 1366, height: int = 900):
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("document.getElementById('video').readyState >= 2", timeout=30_000)
    return page, errors


def test_overlay_follows_the_video(browser, viewer_url: str) -> None:
    page, errors = _open_viewer(browser, viewer_url)
    page.evaluate("document.getElementById('video').currentTime = 0.2")
    page.wait_for_timeout(500)
    before = page.evaluate(CANVAS_STATE)
    assert before["drawn"] > 500, "nothing drawn on the overlay"

    page.click("#play")
    page.wait_for_function("document.getElementById('video').currentTime > 1.2", timeout=20_000)
    page.click("#play")
    page.wait_for_timeout(300)
    after = page.evaluate(CANVAS_STATE)
    assert after["drawn"] > 500
    assert after["hash"] != before["hash"], "overlay did not change while the video advanced"
    assert page.inner_text("#ro-hip").endswith("°")
    assert page.inner_text("#ro-lumbar").endswith("°")
    page.screenshot(path=str(ARTIFACTS / "viewer-desktop.png"), full_page=True)

    # Frame stepping moves exactly one frame of the report forward.
    frame_label = page.inner_text("#time").split("frame ")[1]
    page.click("#step-fwd")
    page.wait_for_timeout(300)
    assert int(page.inner_text("#time").split("frame ")[1]) == int(frame_label) + 1
    assert not errors, errors
    page.close()


def test_clicking_a_finding_seeks_the_video(browser, viewer_url: str) -> None:
    page, errors = _open_viewer(browser, viewer_url)
    page.evaluate("document.getElementById('video').currentTime = 3.0")
    page.wait_for_timeout(300)
    for selector in ("#findings .finding-item", "#timeline .finding"):
        target = page.locator(selector).first
        start = float(target.get_attribute("data-start"))
        page.evaluate("document.getElementById('video').currentTime = 3.0")
        page.wait_for_timeout(200)
        target.click()
        page.wait_for_timeout(300)
        now = page.evaluate("document.getElementById('video').currentTime")
        assert abs(now - start) < 0.05, (selector, now, start)
    assert page.locator("#rep-table tbody tr").count() >= 1
    assert not errors, errors
    page.close()


def test_phone_layout_fits_the_screen(browser, viewer_url: str) -> None:
    page, errors = _open_viewer(browser, viewer_url, width=390, height=844)
    page.evaluate("document.getElementById('video').currentTime = 1.0")
    page.wait_for_timeout(500)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "viewer-phone.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_annotated_mp4_plays_in_chromium(browser, server: ServerProcess, viewer_url: str) -> None:
    analysis_id = viewer_url.rstrip("/").split("/")[-1]
    report = httpx.get(f"{server.url}/api/analyses/{analysis_id}").json()["report"]
    page = browser.new_page()
    page.goto(server.url + "/")
    state = page.evaluate(
        """async (src) => {
          const v = document.createElement('video');
          v.muted = true; v.preload = 'auto'; v.src = src;
          document.body.append(v);
          await new Promise((ok, fail) => {
            v.addEventListener('loadeddata', ok, {once: true});
            v.addEventListener('error', () => fail(new Error('video error ' + v.error?.code)));
            setTimeout(() => fail(new Error('timeout')), 20000);
          });
          return {ready: v.readyState, duration: v.duration, w: v.videoWidth};
        }""",
        f"/api/analyses/{analysis_id}/annotated.mp4",
    )
    assert state["ready"] >= 2
    assert state["w"] > 0
    assert abs(state["duration"] - report["video"]["duration_s"]) < 0.25
    page.close()


def test_delete_from_history(browser, server: ServerProcess, viewer_url: str) -> None:
    analysis_id = viewer_url.rstrip("/").split("/")[-1]
    page = browser.new_page()
    page.goto(server.url + "/")
    item = page.locator(f".history-item[data-id='{analysis_id}']")
    item.wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    item.locator("button.delete").click()
    item.wait_for(state="detached", timeout=10_000)
    assert httpx.get(f"{server.url}/api/analyses/{analysis_id}").status_code == 404
    page.close()


def _settled_history(page, name: str):
    """The history entry of the clip `name` once it shows the finished analysis: the list is
    fetched again when an analysis ends, so for a moment it may still say "Analysing"."""
    item = page.locator(f".history-item:has-text('{name}')")
    item.locator(".badge:not(:has-text('Analysing')):not(:has-text('Queued'))").wait_for(
        timeout=10_000
    )
    return item


def _upload(browser, server: ServerProcess, clip: Path, exercise: str | None = None):
    """Upload `clip` on the upload page (as `exercise` when given) and wait for its result.
    Returns the page (still open: the caller closes it), its page errors, the upload card's
    status text and the viewer link."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/")
    if exercise is not None:
        page.wait_for_function(
            f"document.querySelector('#exercise option[value={exercise}]') !== null"
        )
        page.select_option("#exercise", exercise)
    page.set_input_files("#file-input", str(clip))
    card = page.locator(f".upload-item:has-text('{clip.name}')")
    link = card.locator(".open-result")
    link.wait_for(timeout=180_000)
    return page, errors, card.locator(".upload-status").inner_text(), link.get_attribute("href")


def _verdict_shown(page) -> dict[str, str]:
    """What the viewer shows of the back verdict: the badge's text, class and title, and the
    first rep's verdict badge and its title."""
    badge = page.locator("#verdict")
    cell = page.locator("#rep-table tbody tr td:last-child .badge").first
    return {
        "text": badge.inner_text(),
        "class": badge.get_attribute("class") or "",
        "title": badge.get_attribute("title") or "",
        "rep": cell.inner_text(),
        "rep_title": cell.get_attribute("title") or "",
    }


def test_oblique_clip_is_shown_not_judged(browser, server: ServerProcess) -> None:
    """A lift filmed 45 deg off side-on: the upload card, the verdict badge and the rep table say
    "not judged" with the reason, never a green flat back."""
    page, errors, status, href = _upload(browser, server, footage(OBLIQUE_CLIP))
    assert "not judged" in status
    page.close()
    page, view_errors = _open_viewer(browser, server.url + href)
    shown = _verdict_shown(page)
    assert "not judged" in shown["text"] and "good" not in shown["class"]
    assert "side-on" in shown["title"]
    assert shown["rep"] == "Not judged" and "side-on" in shown["rep_title"]
    page.screenshot(path=str(ARTIFACTS / "viewer-not-judged.png"), full_page=True)
    page.close()
    assert not errors and not view_errors, errors + view_errors


LOW_CONFIDENCE_CLIP = "mattiolato_Good_000001.mp4"  # flat, judged near the line (~0.2)


def test_a_verdict_near_the_line_is_shown_as_likely(browser, server: ServerProcess) -> None:
    """A flat lift whose verdict has low confidence: the upload card, the history, the viewer's
    badge and rep table say "probably flat", never green, as the report's words do."""
    page, errors, status, href = _upload(browser, server, footage(LOW_CONFIDENCE_CLIP))
    assert "back probably flat" in status
    history = _settled_history(page, LOW_CONFIDENCE_CLIP).locator(".badge")
    assert "probably flat" in history.inner_text()
    assert "good" not in (history.get_attribute("class") or "")
    page.close()
    analysis_id = href.rstrip("/").split("/")[-1]
    report = httpx.get(f"{server.url}/api/analyses/{analysis_id}", timeout=30).json()["report"]
    summary = report["summary"]
    assert (summary["verdict"], summary["confidence_level"]) == ("flat", "low"), summary
    assert any("probably flat" in m and "low confidence" in m for m in summary["messages"])
    page, view_errors = _open_viewer(browser, server.url + href)
    shown = _verdict_shown(page)
    assert "probably flat" in shown["text"] and "good" not in shown["class"]
    assert "low confidence" in shown["title"]
    assert shown["rep"] == "Probably flat"
    page.close()
    assert not errors and not view_errors, errors + view_errors


PLANK_CLIP = "kaiakol_plank_correct_005.mp4"  # a 6.5 s straight forearm plank, side view


def test_a_plank_is_shown_as_a_hold(browser, server: ServerProcess) -> None:
    """A plank analysed as a plank: the upload card and history say it is a hold (not "no reps"),
    the viewer's badge gives the time held and in good form, the timeline shows the hold."""
    page, errors, status, href = _upload(browser, server, footage(PLANK_CLIP), "plank")
    assert "Hold" in status and "No reps" not in status
    history = _settled_history(page, PLANK_CLIP)
    assert "Plank" in history.inner_text() and "No reps" not in history.inner_text()
    page.close()
    page, view_errors = _open_viewer(browser, server.url + href)
    badge = page.locator("#verdict")
    badge.wait_for()
    text = badge.inner_text()
    assert text.startswith("Held 6.") and "in good form" in text, text
    assert "good" in (badge.get_attribute("class") or "")
    span = page.locator("#timeline .rep.hold")
    assert span.count() == 1 and span.first.get_attribute("title").startswith("Hold 1:")
    assert "Plank" in page.inner_text("#subtitle")
    assert page.inner_text(".readout.hip .label").lower() == "body line"
    assert page.inner_text("#ro-hip").endswith("°")
    assert not page.locator("#reps-card").is_visible()
    page.screenshot(path=str(ARTIFACTS / "viewer-plank.png"), full_page=True)
    page.close()
    assert not errors and not view_errors, errors + view_errors


def test_a_side_plank_is_shown_with_its_own_measures(
    browser, server: ServerProcess, tmp_path: Path
) -> None:
    """A rendered side plank uploaded as one: the viewer's read-outs are the side plank's own
    measures (body line, hip drop), read from the exercise registry, and the hold is shown."""
    from formcheck.synth.clip import render_clip
    from formcheck.synth.spec import SynthSpec

    clip = tmp_path / "side-plank.mp4"
    render_clip(SynthSpec(kind="side_plank", side="right", hold_seconds=4.0, fps=15.0), clip)
    page, errors, _status, href = _upload(browser, server, clip, "side-plank")
    page.close()
    page, view_errors = _open_viewer(browser, server.url + href)
    badge = page.locator("#verdict")
    badge.wait_for()
    assert badge.inner_text().startswith("Held 4.") and "good" in badge.get_attribute("class")
    assert "Side plank" in page.inner_text("#subtitle")
    assert page.inner_text(".readout.hip .label").lower() == "body line"
    assert page.inner_text(".readout.lumbar .label").lower() == "hip drop"
    page.evaluate("document.getElementById('video').currentTime = 3.0")
    page.wait_for_function("document.getElementById('ro-lumbar').textContent.endsWith('°')")
    assert page.locator("#measures-card svg polyline").count() >= 2  # body line and hip drop
    assert not page.locator("#charts").is_visible()  # the lifts' flexion charts do not apply
    page.screenshot(path=str(ARTIFACTS / "viewer-side-plank.png"), full_page=True)
    page.close()
    assert not errors and not view_errors, errors + view_errors


def test_a_frog_squat_is_shown_with_reps_without_sides(
    browser, server: ServerProcess, tmp_path: Path
) -> None:
    """A rendered frog squat from the front uploaded as one: the badge counts its reps without
    sides, the read-outs and the measures chart are the frog squat's own."""
    from formcheck.synth.clip import render_clip
    from formcheck.synth.spec import SynthSpec

    clip = tmp_path / "frog.mp4"
    render_clip(SynthSpec(kind="frog_squat", reps=1, yaw_deg=90.0, fps=10.0), clip)
    page, errors, _status, href = _upload(browser, server, clip, "frog-squat")
    page.close()
    page, view_errors = _open_viewer(browser, server.url + href)
    badge = page.locator("#verdict")
    badge.wait_for()
    assert badge.inner_text() == "1 rep" and "good" in badge.get_attribute("class")
    assert "Frog squat" in page.inner_text("#subtitle")
    assert page.inner_text(".readout.hip .label").lower() == "depth"
    assert page.locator("#measures-card svg polyline").count() >= 2  # depth, spread, abduction
    page.close()
    assert not errors and not view_errors, errors + view_errors


def test_a_hinge_screen_near_its_line_is_shown_as_likely(
    browser, server: ServerProcess, tmp_path: Path
) -> None:
    """A rendered forward bend whose hips give about half of it (47 deg hip, 45 deg lumbar)
    uploaded as a forward-bend screen: the report tells it as likely, and the viewer's badge
    says the share "near the line", neither green nor red."""
    from formcheck.synth.clip import render_clip
    from formcheck.synth.spec import SynthSpec

    clip = tmp_path / "bend.mp4"
    spec = SynthSpec(
        kind="forward_bend", bend_hip_deg=47.0, bend_lumbar_deg=45.0, lumbar_lead=2.0, fps=15.0
    )
    render_clip(spec, clip)
    page, errors, _status, href = _upload(browser, server, clip, "forward-bend")
    page.close()
    analysis_id = href.rstrip("/").split("/")[-1]
    report = httpx.get(f"{server.url}/api/analyses/{analysis_id}", timeout=30).json()["report"]
    sc = report["screen"]
    assert sc["confidence_level"] == "low" and "probably" in sc["message"], sc
    page, view_errors = _open_viewer(browser, server.url + href)
    badge = page.locator("#verdict")
    badge.wait_for()
    cls = badge.get_attribute("class") or ""
    assert (
        badge.inner_text()
        == f"Hips gave {round(100 * sc['hip_share'])}% of the bend (near the line)"
    )
    assert "info" in cls.split() and not {"good", "bad"} & set(cls.split())
    assert "close to the 50% line" in (badge.get_attribute("title") or "")
    page.close()
    assert not errors and not view_errors, errors + view_errors
