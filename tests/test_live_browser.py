"""The live page in a real headless Chromium whose camera is a real lift clip (fake capture device
fed by a .y4m file): overlay drawn, reps counted, speech synthesis called when the back rounds,
and the recorded set uploaded as an analysis. A screenshot goes to test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest_server import ARTIFACTS, ServerProcess, footage

CHROMIUM = Path("/usr/bin/chromium")
CLIP = "tby66_0016r_1.mp4"
SECONDS = 13.0  # standing, then the first four reps
FPS = 30

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]

# Record what the page asks the browser to say, then let it speak as usual.
SPEECH_SPY = """
window.__spoken = [];
if ('speechSynthesis' in window) {
  const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
  window.speechSynthesis.speak = (utterance) => {
    window.__spoken.push(utterance.text);
    try { speak(utterance); } catch (e) { /* no voices in a headless browser */ }
  };
}
"""

OVERLAY_PIXELS = """() => {
  const c = document.getElementById('overlay');
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
  return drawn;
}"""


def write_y4m(clip: Path, out: Path, seconds: float, fps: int) -> Path:
    """The first `seconds` of a clip as raw YUV 4:2:0 in a .y4m file at `fps`."""
    import av

    from formcheck.video import VideoSource

    source = VideoSource(clip)
    step = max(1, round(source.info.fps / fps))
    with av.open(str(out), "w", format="yuv4mpegpipe") as container:
        stream = container.add_stream("rawvideo", rate=fps)
        stream.width, stream.height = source.info.width, source.info.height
        stream.pix_fmt = "yuv420p"
        for i, frame in enumerate(source):
            if frame.t > seconds:
                break
            if i % step:
                continue
            image = av.VideoFrame.from_ndarray(frame.image, format="rgb24").reformat(
                format="yuv420p"
            )
            for packet in stream.encode(image):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(tmp_path_factory.mktemp("live-browser") / "data").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def fake_camera(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("camera")
    return write_y4m(footage(CLIP), folder / "camera.y4m", SECONDS, FPS)


def test_live_page_coaches_a_rounded_lift(server: ServerProcess, fake_camera: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={fake_camera}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.add_init_script(SPEECH_SPY)
            page.goto(server.url + "/")
            page.click("a[href='/live']")
            page.wait_for_url("**/live")
            page.select_option("#exercise", "deadlift")
            page.click("#start")
            page.wait_for_function("document.getElementById('conn').textContent === 'Live'")
            page.wait_for_function(
                "parseInt(document.getElementById('rep-count').textContent) >= 2",
                timeout=90_000,
            )
            page.wait_for_function(
                "window.__spoken.some((t) => t.startsWith('Flat back'))", timeout=60_000
            )
            assert page.evaluate(OVERLAY_PIXELS) > 500, "nothing drawn over the camera image"
            page.screenshot(path=str(ARTIFACTS / "live-page.png"))
            # The back outline and the frame turn red while a rounded rep is in progress.
            page.wait_for_selector("#stage.rounding", timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "live-page-rounding.png"))
            assert "Flat back" in page.inner_text("#cue-log")
            page.click("#stop")
            link = page.locator(".open-report")
            link.wait_for(timeout=60_000)
            assert link.get_attribute("href").startswith("/analyses/")
            page.wait_for_function(
                "window.__spoken.some((t) => t.startsWith('Set done'))", timeout=30_000
            )
            assert "rounded back" in page.inner_text("#cue-log")
            # The set's verdict replaces the live count, as the server summarised it.
            page.wait_for_function(
                "document.getElementById('rep-count').textContent.includes('rounded')",
                timeout=30_000,
            )
            page.wait_for_function(
                "document.getElementById('result').textContent.includes('Report ready')",
                timeout=180_000,
            )
            assert "Stopped" in page.inner_text("#conn")
            page.screenshot(path=str(ARTIFACTS / "live-page-stopped.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()


PLANK_CLIP = "kaiakol_plank_correct_005.mp4"  # a 6.5 s straight forearm plank, side view


def test_live_page_times_a_plank(server: ServerProcess, tmp_path: Path) -> None:
    """A real plank as the camera: the live page shows the hold being timed, not reps."""
    from playwright.sync_api import sync_playwright

    camera = write_y4m(footage(PLANK_CLIP), tmp_path / "plank.y4m", 7.0, FPS)
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.url + "/live")
            page.wait_for_function(
                "document.querySelector('#exercise option[value=plank]') !== null"
            )
            page.select_option("#exercise", "plank")
            page.click("#start")
            page.wait_for_function(
                "document.getElementById('rep-chip').textContent.startsWith('Holding')",
                timeout=90_000,
            )
            assert "s held" in page.inner_text("#rep-count")
            assert "rep" not in page.inner_text("#rep-count")
            assert page.inner_text(".readout.lumbar .label").lower() == "hip sag"
            page.screenshot(path=str(ARTIFACTS / "live-plank.png"))
            assert not errors, errors
        finally:
            browser.close()
