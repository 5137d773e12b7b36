"""End to end: the real page in a real headless Chromium, against a real ``hifipose serve``.

Chromium's fake camera plays the squat clip (converted to Y4M here); the page captures it,
sends JPEG frames over the WebSocket and draws what comes back. Debian's ``chromium`` and
``chromium-driver`` are required (``scripts/setup --dev`` installs them); nothing downloads.
Set ``HIFIPOSE_UPDATE_DOCS=1`` to also write the screenshot to ``docs/serve.png``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hifipose.api import create_detector
from hifipose.errors import ConfigError
from tests.conftest import REPORT
from tests.integration.serve.helpers import (
    CROSSING,
    ROOT,
    SQUATS,
    Server,
    running_server,
    write_y4m,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The fraction of answered frames with a pose: the clip shows one person in every frame,
# and hifipose finds a pose in 65/65 of its frames offline (tests/integration/test_video.py).
MIN_POSE_FRACTION = 0.8

STATS_JS = """
const s = window.hifipose || {};
return {connected: s.connected, sent: s.sent, answered: s.answered, withPose: s.withPose,
        dropped: s.dropped, errors: s.errors, fps: s.fps, config: s.config,
        lastError: s.lastError, runtimes: s.runtimes,
        lastModel: s.lastResult ? s.lastResult.config.model_type : null,
        lastPoses: s.lastResult ? s.lastResult.poses.length : null,
        lastMask: s.lastResult ? Boolean(s.lastResult.mask_png) : null};
"""


@pytest.fixture(scope="module")
def webdriver_module() -> Any:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail(
            "Debian's chromium and chromium-driver are needed: run `bash scripts/setup --dev` "
            "(apt-get install chromium chromium-driver)"
        )
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never try to download a driver
    from selenium import webdriver

    return webdriver


@contextlib.contextmanager
def chromium(webdriver: Any, profile: Path, camera_y4m: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera_y4m}",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(profile.parent / "cd.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(
    predicate: Callable[[], bool], *, timeout: float, what: str, state: Callable[[], object]
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; page: {state()}")
        time.sleep(0.2)


def test_page_tracks_the_camera_switches_live_and_runs_an_upload(
    webdriver_module: Any, tmp_path: Path, shared_data: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    camera = write_y4m(tmp_path / "squats.y4m", size_wh=(360, 640), fps=15)
    server: Server
    with (
        running_server(tmp_path, "--max-sessions", "1") as server,
        chromium(webdriver_module, tmp_path / "profile", camera) as driver,
    ):

        def stats() -> dict[str, Any]:
            return driver.execute_script(STATS_JS)

        driver.get(f"{server.base_url}/")

        # 1. The fake camera's frames come back with a skeleton.
        wait_for(
            lambda: (stats().get("answered") or 0) >= 60,
            timeout=90,
            what="60 answered frames",
            state=stats,
        )
        first = stats()
        pose_fraction = first["withPose"] / first["answered"]
        assert pose_fraction >= MIN_POSE_FRACTION, first
        assert first["config"]["model_type"] == "lite"
        assert first["errors"] == 0, first["lastError"]
        fps_text = driver.find_element(By.ID, "stat-fps").text
        assert float(fps_text) > 0, fps_text
        assert driver.find_element(By.ID, "stat-inference").text.endswith("ms")
        assert driver.find_element(By.ID, "stat-rtt").text.endswith("ms")

        # 2. Switching the model applies live: later results come from the full model.
        Select(driver.find_element(By.ID, "model")).select_by_value("full")
        wait_for(
            lambda: (stats().get("config") or {}).get("model_type") == "full",
            timeout=30,
            what="the switch to the full model",
            state=stats,
        )
        switched = stats()["answered"]
        wait_for(
            lambda: stats()["answered"] >= switched + 30 and stats()["lastModel"] == "full",
            timeout=60,
            what="30 frames from the full model",
            state=stats,
        )

        # 3. Segmentation on: masks arrive and are drawn.
        driver.find_element(By.ID, "segmentation").click()
        wait_for(
            lambda: bool(stats()["lastMask"]),
            timeout=30,
            what="a segmentation mask",
            state=stats,
        )
        time.sleep(1.0)  # a few more frames, so the screenshot shows mask and skeleton
        final = stats()
        final_fraction = final["withPose"] / final["answered"]
        assert final_fraction >= MIN_POSE_FRACTION, final
        assert final["errors"] == 0, final["lastError"]
        fps_shown = float(driver.find_element(By.ID, "stat-fps").text)
        screenshot = tmp_path / "serve.png"
        assert driver.save_screenshot(str(screenshot))
        if os.environ.get("HIFIPOSE_UPDATE_DOCS") == "1":
            shutil.copyfile(screenshot, ROOT / "docs" / "serve.png")
        REPORT.append(
            f"serve (Chromium, fake camera): {final['withPose']}/{final['answered']} answered "
            f"frames with a pose ({100 * final_fraction:.0f} %), {final['sent']} sent, "
            f"{final['dropped']} dropped, {fps_shown:.0f} frames/s shown"
        )

        # 4. The upload tab: track a video file, then download its keypoints.
        driver.find_element(By.ID, "tab-video").click()
        driver.find_element(By.ID, "upload-file").send_keys(str(SQUATS.resolve()))
        Select(driver.find_element(By.ID, "upload-model")).select_by_value("lite")
        driver.find_element(By.ID, "upload-start").click()
        wait_for(
            lambda: bool(driver.find_elements(By.ID, "download-jsonl")),
            timeout=120,
            what="the upload job's download links",
            state=lambda: driver.find_element(By.ID, "upload-status").text,
        )
        status = driver.find_element(By.ID, "upload-status").text
        assert status.startswith("Done: 65 frames"), status
        assert float(driver.find_element(By.ID, "upload-progress").get_attribute("value")) == 1.0
        kinds = {
            a.get_attribute("id") for a in driver.find_elements(By.CSS_SELECTOR, "#downloads a")
        }
        assert kinds == {"download-jsonl", "download-csv", "download-parquet", "download-overlay"}
        href = driver.find_element(By.ID, "download-jsonl").get_attribute("href")
        with urllib.request.urlopen(href, timeout=10) as response:  # noqa: S310 - loopback
            lines = response.read().decode().splitlines()
        assert len(lines) == 65
        assert all(json.loads(line)["poses"] for line in lines)

        # 5. A photo through the same form (it was refused: "give it an image suffix").
        driver.find_element(By.ID, "upload-file").send_keys(str(SQUATS.with_name("pose.jpg")))
        driver.find_element(By.ID, "upload-start").click()
        wait_for(
            lambda: driver.find_element(By.ID, "upload-status").text.startswith("Done: 1 frame,"),
            timeout=60,
            what="the photo's job",
            state=lambda: driver.find_element(By.ID, "upload-status").text,
        )
        assert driver.find_element(By.ID, "upload-status").text.endswith("a pose in 1.")

        # 6. Reloading the page at --max-sessions 1 gets the stream back (it was refused while
        # the closed page's stream still held the one slot).
        driver.refresh()
        wait_for(
            lambda: (stats().get("answered") or 0) >= 10,
            timeout=60,
            what="10 answered frames after a reload",
            state=stats,
        )
        assert stats()["errors"] == 0, stats()["lastError"]


def tracking_runtime() -> tuple[str, bool]:
    """The runtime that finds several people here, and whether it gives track ids.

    The own pipeline (litert) once it tracks several people (with ids); until then
    MediaPipe Tasks (no ids).
    """
    try:
        create_detector(model_type="lite", num_poses=3).close()
    except ConfigError:
        return "mediapipe", False
    return "litert", True


def person_colour(track_id: int) -> str:
    """app.js's colour for a track id, as the browser serialises it."""
    return f"hsl({round((track_id * 137.508) % 360)}, 90%, 60%)"


def test_page_draws_every_person_in_their_colour_with_their_id(
    webdriver_module: Any, tmp_path: Path, shared_data: Path
) -> None:
    from selenium.webdriver.common.by import By

    runtime, with_ids = tracking_runtime()
    camera = write_y4m(tmp_path / "crossing.y4m", size_wh=(640, 360), fps=10, clip=CROSSING)
    args = ("--num-poses", "3", "--runtime", runtime)
    with (
        running_server(tmp_path, *args) as server,
        chromium(webdriver_module, tmp_path / "profile", camera) as driver,
    ):

        def stats() -> dict[str, Any]:
            return driver.execute_script(STATS_JS)

        def drawn() -> list[dict[str, Any]]:
            return driver.execute_script("return (window.hifipose || {}).drawn || [];")

        driver.get(f"{server.base_url}/")
        wait_for(
            lambda: (stats().get("answered") or 0) >= 10,
            timeout=120,
            what="10 answered frames",
            state=stats,
        )
        assert stats()["config"]["num_poses"] == 3
        assert stats()["config"]["runtime"] == runtime
        assert driver.find_element(By.ID, "num-poses").get_attribute("value") == "3"
        most: list[dict[str, Any]] = []
        shown: set[str] = set()  # the "People" figure beside the video
        colours: dict[int, set[str]] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(most) < 3:
            people = drawn()
            most = people if len(people) > len(most) else most
            shown.add(driver.find_element(By.ID, "stat-pose").text.split(" ")[0])
            for person in people:
                if person["trackId"] is not None:
                    colours.setdefault(person["trackId"], set()).add(person["colour"])
            time.sleep(0.1)
        assert len(most) >= 2, f"at most {len(most)} people drawn; page: {stats()}"
        assert len({p["colour"] for p in most}) == len(most), most  # one colour each
        assert any(text.isdigit() and int(text) >= 2 for text in shown), shown
        if with_ids:
            for person in most:
                assert person["label"] == f"#{person['trackId']}", person
                assert person["colour"] == person_colour(person["trackId"]), person
            assert all(len(c) == 1 for c in colours.values()), colours  # stable per id
        else:  # MediaPipe Tasks: no ids, so no labels
            assert all(p["trackId"] is None and p["label"] is None for p in most), most
        assert stats()["errors"] == 0, stats()["lastError"]
        if runtime != "mediapipe":  # Holistic runs on hifipose's own pipeline only
            # The Holistic switch: each person's hands and face arrive and are drawn.
            driver.find_element(By.ID, "holistic").click()
            wait_for(
                lambda: (stats().get("config") or {}).get("holistic") is True,
                timeout=60,
                what="the switch to Holistic",
                state=stats,
            )
            wait_for(
                lambda: any(p.get("hands", 0) >= 1 and p.get("face") for p in drawn()),
                timeout=60,
                what="a person drawn with hands and a face",
                state=lambda: (stats(), drawn()),
            )
            assert stats()["errors"] == 0, stats()["lastError"]
        assert driver.save_screenshot(str(tmp_path / "serve-multi.png"))
        if os.environ.get("HIFIPOSE_UPDATE_DOCS") == "1":
            shutil.copyfile(tmp_path / "serve-multi.png", ROOT / "docs" / "serve_multi.png")
        REPORT.append(
            f"serve (Chromium, fake camera, {runtime}, num_poses=3): up to {len(most)} people "
            f"drawn, {'ids shown' if with_ids else 'no ids (Tasks)'}"
        )
