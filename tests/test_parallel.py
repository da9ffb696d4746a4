"""Chunked analysis: chunk planning, frame tables, and chunked == serial on a real clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from formcheck.parallel import Chunk, frame_table, plan_chunks, resolve_workers, seam, stitch
from formcheck.passone import Observation
from formcheck.pose import Pose

FOOTAGE = Path(__file__).resolve().parents[1] / ".." / "shared" / "footage"
LONG_CLIP = FOOTAGE / "tby66_0016r_1.mp4"


def _kept(chunks: list[Chunk]) -> list[int]:
    return [i for c in chunks for i in range(c.start, c.end)]


def test_short_clip_runs_serially() -> None:
    # 2 s at 30 fps: shorter than two minimum chunks.
    chunks = plan_chunks(60, 30.0, workers=2)
    assert chunks == [Chunk(0, 0, 0, 60, 60)]


def test_a_five_second_clip_is_split_in_two() -> None:
    first, second = plan_chunks(150, 30.0, workers=2)
    # 0.3 s of warm-up (9 frames) before the second chunk, 4 frames of run-on after the first.
    assert (first.start, first.end, second.start, second.end) == (0, 78, 78, 150)
    assert second.warm == 78 - 9 and first.stop == 78 + 4
    assert abs(first.analysed - second.analysed) <= 1


def test_one_worker_is_serial_whatever_the_length() -> None:
    assert plan_chunks(36_000, 60.0, workers=1) == [Chunk(0, 0, 0, 36_000, 36_000)]


def test_chunks_cover_every_frame_once_in_order() -> None:
    for frames, fps, workers in [(1576, 60.0, 2), (18_000, 30.0, 4), (1001, 29.97, 3)]:
        chunks = plan_chunks(frames, fps, workers)
        assert len(chunks) == workers
        assert _kept(chunks) == list(range(frames))
        # Equal work: the first chunk keeps more frames, as it has no warm-up to analyse.
        sizes = [c.analysed for c in chunks]
        assert max(sizes) - min(sizes) <= 1
        assert chunks[0].kept > chunks[1].kept


def test_chunks_warm_up_before_their_start_and_run_on_after_their_end() -> None:
    chunks = plan_chunks(1576, 60.0, workers=2, overlap_s=1.0)
    first, second = chunks
    assert first.warm == first.start == 0
    assert first.end == second.start == 803
    assert first.stop == 803 + 30  # the seam is chosen in [803, 833)
    assert second.warm == 803 - 60
    assert second.stop == second.end == 1576
    assert second.analysed == second.kept + 60 == first.analysed


def test_overlap_never_reaches_before_the_first_frame() -> None:
    chunks = plan_chunks(400, 30.0, workers=2, overlap_s=30.0, min_chunk_s=5.0)
    assert [c.warm for c in chunks] == [0, 0]
    # Balancing such an overlap would leave a chunk empty: each keeps a third of its share.
    assert _kept(chunks) == list(range(400)) and min(c.kept for c in chunks) >= 200 // 3


def test_chunk_count_is_limited_by_minimum_chunk_length() -> None:
    # 20 s at 30 fps with 8 workers and 6 s minimum chunks: 3 chunks.
    chunks = plan_chunks(600, 30.0, workers=8, min_chunk_s=6.0)
    assert len(chunks) == 3
    assert _kept(chunks) == list(range(600))


def test_plan_tolerates_missing_fps_and_empty_clips() -> None:
    assert plan_chunks(0, 30.0, workers=2) == [Chunk(0, 0, 0, 0, 0)]
    assert _kept(plan_chunks(900, 0.0, workers=2)) == list(range(900))


def test_resolve_workers() -> None:
    assert resolve_workers(3) == 3
    assert resolve_workers("2") == 2
    assert resolve_workers(0) == 1
    assert resolve_workers("auto") >= 1
    with pytest.raises(ValueError):
        resolve_workers("many")


def _obs(t: float, x: float | None) -> Observation:
    """An observation whose pose is a standing figure shifted by x pixels (None: no pose)."""
    if x is None:
        return Observation(t, None, None, {})
    lm = np.zeros((33, 2))
    lm[[11, 12], 1] = 100.0  # shoulders 100 px above the hips: trunk length 100
    lm[[23, 24], 1] = 200.0
    lm[:, 0] += x
    return Observation(t, Pose(lm, np.ones(33), (640, 360)), None, {})


def test_seam_is_the_first_frame_where_both_chunks_agree() -> None:
    before = [_obs(i, 0.0) for i in range(10)]
    # The later chunk is still off by 10 px (0.1 trunk), then without a pose, then agrees.
    after = [_obs(5, 10.0), _obs(6, None), _obs(7, 1.0), _obs(8, 0.0), _obs(9, 0.0)]
    assert seam(before, after, offset=5) == 2


def test_seam_falls_back_to_the_end_of_the_shared_stretch() -> None:
    before = [_obs(i, 0.0) for i in range(8)]
    after = [_obs(i, 50.0) for i in range(5, 12)]
    assert seam(before, after, offset=5) == 3


def test_stitch_takes_each_frame_once_in_order() -> None:
    chunks = plan_chunks(40, 10.0, workers=2, overlap_s=1.0, min_chunk_s=1.0)
    # chunk 0 analyses [0, 25); chunk 1 analyses [10, 40) and agrees from frame 22 on.
    first = [_obs(i, 0.0) for i in range(chunks[0].warm, chunks[0].stop)]
    second = [_obs(i, 0.0 if i >= 22 else 20.0) for i in range(chunks[1].warm, chunks[1].stop)]
    out = stitch(chunks, [first, second])
    assert [o.t for o in out] == list(range(40))
    assert all(o in first for o in out[:22]) and all(o in second for o in out[22:])


def test_frame_table_matches_decoded_frames() -> None:
    import av

    clip = FOOTAGE / "mattiolato_Bad_000009.mp4"  # has edit-list pre-roll packets
    table = frame_table(clip)
    with av.open(str(clip)) as container:
        decoded = [f.pts for f in container.decode(video=0)]
    assert table == decoded


@pytest.mark.slow
def test_chunked_equals_serial_on_a_real_clip() -> None:
    from formcheck.pipeline import AnalysisOptions, analyze_video

    serial = analyze_video(LONG_CLIP, AnalysisOptions(workers=1))
    chunked = analyze_video(LONG_CLIP, AnalysisOptions(workers=2))
    assert len(plan_chunks(len(serial["frames"]), serial["video"]["fps"], 2)) == 2
    s, c = serial["summary"], chunked["summary"]
    assert c["rep_count"] == s["rep_count"] >= 8
    assert c["rounding"] == s["rounding"]
    assert [r["rounding"] for r in chunked["reps"]] == [r["rounding"] for r in serial["reps"]]
    assert len(chunked["frames"]) == len(serial["frames"])
    for name in ("hip_flexion_deg", "lumbar_flexion_deg", "knee_flexion_deg"):
        a = np.array([np.nan if f[name] is None else f[name] for f in serial["frames"]], float)
        b = np.array([np.nan if f[name] is None else f[name] for f in chunked["frames"]], float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        diff = np.abs(a - b)[~np.isnan(a)]
        assert diff.max() < 3.0, name
        assert np.percentile(diff, 95) < 1.0, name


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mattiolato_Good_000001.mp4", "bichraix_bad008.mp4"])
def test_short_clips_split_in_two_keep_the_serial_verdicts(name: str) -> None:
    """A 3-5 s clip is split in two on a 2-core machine; its reps, verdicts and peaks stay."""
    from formcheck.pipeline import AnalysisOptions, analyze_video

    clip = FOOTAGE / name
    if not clip.exists():
        pytest.skip(f"{clip} missing")
    serial = analyze_video(clip, AnalysisOptions(workers=1))
    chunked = analyze_video(clip, AnalysisOptions(workers=2))
    assert len(plan_chunks(len(serial["frames"]), serial["video"]["fps"], 2)) == 2
    s, c = serial["summary"], chunked["summary"]
    assert c["rep_count"] == s["rep_count"] == 1
    assert c["rounding"] == s["rounding"]
    assert c["peak_lumbar_flexion_deg"] == pytest.approx(s["peak_lumbar_flexion_deg"], abs=3.0)
