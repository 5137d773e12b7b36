"""The web demo's ASGI app through Starlette's test client: protocol, limits, bad input, jobs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hifipose.io import read_results
from hifipose.serve import ServeConfig, create_app
from hifipose.serve.protocol import encode_frame
from tests.integration.serve.helpers import CROSSING, SQUATS, crossing_jpegs, squat_jpegs

BASE = "http://127.0.0.1:8000"
WS = "ws://127.0.0.1:8000/ws"
TOKEN = "a-test-token-of-32-characters-xx"  # noqa: S105 - a test value


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def make_client(work_dir: Path, **options: Any) -> TestClient:
    config = ServeConfig(work_dir=work_dir, **options)
    return TestClient(create_app(config), base_url=BASE)


@pytest.fixture
def client(work_dir: Path) -> Iterator[TestClient]:
    with make_client(work_dir, max_frame_bytes=64 * 1024, max_upload_bytes=2 << 20) as client:
        yield client


def receive_until(ws: Any, kind: str, *, limit: int = 50) -> dict[str, Any]:
    """Messages up to the first of type ``kind`` (others, e.g. ``dropped``, are skipped)."""
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
        assert message["type"] in {"dropped", "result", "config"}, message
    pytest.fail(f"no {kind!r} message in {limit} messages")


def open_stream(client: TestClient) -> Any:
    ws = client.websocket_connect(WS)
    session = ws.__enter__()
    hello = session.receive_json()
    assert hello["type"] == "hello"
    assert session.receive_json()["type"] == "config"
    return ws, session, hello


def info(client: TestClient) -> dict[str, Any]:
    return client.get("/api/info").json()


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# ---- the page ---------------------------------------------------------------------------


def test_page_and_assets_are_self_contained(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    text = page.text + client.get("/static/app.js").text + client.get("/static/style.css").text
    assert "http://" not in text.replace("http://127.0.0.1", "")
    assert "https://" not in text  # no CDN: everything is served from here


def test_static_files_come_from_a_fixed_table(client: TestClient) -> None:
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/app.py", "/static/"):
        assert client.get(path).status_code == 404


# ---- the live protocol ------------------------------------------------------------------


def test_stream_answers_every_frame_with_33_keypoints(client: TestClient) -> None:
    jpegs = squat_jpegs()
    with client.websocket_connect(WS) as ws:
        hello = ws.receive_json()
        assert hello["models"] == ["lite", "full", "heavy"]
        assert "litert" in hello["runtimes"]
        assert len(hello["topology"]["names"]) == 33
        config = ws.receive_json()
        assert config.keys() == {"type", "config", "load_ms"}
        assert (config["type"], config["config"]) == ("config", hello["config"])
        # the time to create the detector, in ms rounded to 0.1: never 0 (it loads models)
        assert isinstance(config["load_ms"], float) and config["load_ms"] > 0
        assert round(config["load_ms"], 1) == config["load_ms"]
        for i, jpeg in enumerate(jpegs[:8]):
            ws.send_bytes(encode_frame(1000 + i, 200.0 * i, jpeg))
            result = receive_until(ws, "result")  # one frame in flight: none is dropped
            assert result["frame_id"] == 1000 + i
            assert result["timestamp_ms"] == 200.0 * i
            assert (result["width"], result["height"]) == (270, 480)
            (pose,) = result["poses"]
            assert len(pose["keypoints"]) == 33 and len(pose["keypoints"][0]) == 4
            assert len(pose["world"]) == 33 and len(pose["world"][0]) == 3
            xs = [kp[0] for kp in pose["keypoints"]]
            assert 0 < np.median(xs) < 270
            assert result["inference_ms"] > 0
            assert result["server_time_ms"] >= result["inference_ms"]
            assert result["mask_png"] is None
        assert result["detector_runs"] == 1  # tracked from frame to frame, not re-detected


def test_switching_options_applies_live(client: TestClient) -> None:
    jpeg = squat_jpegs()[0]
    with client.websocket_connect(WS) as ws:
        ws.receive_json(), ws.receive_json()
        ws.send_text(json.dumps({"type": "config", "model_type": "full", "segmentation": True}))
        config = receive_until(ws, "config")
        assert config["config"] == {
            "model_type": "full",
            "runtime": "litert",
            "smoothing": True,
            "segmentation": True,
            "num_poses": 1,
            "holistic": False,
        }
        ws.send_bytes(encode_frame(1, 0.0, jpeg))
        result = receive_until(ws, "result")
        assert result["config"]["model_type"] == "full"
        mask = cv2.imdecode(
            np.frombuffer(__import__("base64").b64decode(result["mask_png"]), np.uint8),
            cv2.IMREAD_GRAYSCALE,
        )
        assert mask.shape == (160, 90)  # the frame's aspect, longest side 160
        assert mask.max() > 200 and mask.min() < 50  # a person and background
        ws.send_text(json.dumps({"type": "config", "smoothing": False, "segmentation": False}))
        assert receive_until(ws, "config")["config"]["smoothing"] is False
        assert info(client)["open_detectors"] == 1  # the old detector was closed


def test_the_holistic_switch_sends_each_persons_hands_and_face(client: TestClient) -> None:
    jpegs = squat_jpegs()
    with client.websocket_connect(WS) as ws:
        ws.receive_json(), ws.receive_json()
        ws.send_bytes(encode_frame(0, 0.0, jpegs[0]))
        (body,) = receive_until(ws, "result")["poses"]
        assert "left_hand" not in body and "face" not in body  # off: the body only, as ever
        ws.send_text(json.dumps({"type": "config", "holistic": True}))
        assert receive_until(ws, "config")["config"]["holistic"] is True
        ws.send_bytes(encode_frame(1, 100.0, jpegs[1]))
        (pose,) = receive_until(ws, "result")["poses"]
        assert len(pose["left_hand"]) == len(pose["right_hand"]) == 21
        assert len(pose["face"]) in {468, 478}
        assert all(len(point) == 2 for point in pose["right_hand"])
        ws.send_text(json.dumps({"type": "config", "holistic": False}))
        assert receive_until(ws, "config")["config"]["holistic"] is False


def test_several_people_come_back_each_with_its_track_id(client: TestClient) -> None:
    """``num_poses`` switches live; every pose of a result carries ``track_id`` (an int from a
    tracking runtime, None from MediaPipe Tasks, which gives no identities)."""
    jpegs = crossing_jpegs()
    with client.websocket_connect(WS) as ws:
        ws.receive_json(), ws.receive_json()
        ws.send_text(json.dumps({"type": "config", "runtime": "mediapipe", "num_poses": 3}))
        config = receive_until(ws, "config")["config"]
        assert (config["runtime"], config["num_poses"]) == ("mediapipe", 3)
        counts = []
        for i, jpeg in enumerate(jpegs[:3]):
            ws.send_bytes(encode_frame(i, 100.0 * i, jpeg))
            result = receive_until(ws, "result")
            assert result["config"]["num_poses"] == 3
            counts.append(len(result["poses"]))
            for pose in result["poses"]:
                assert "track_id" in pose and pose["track_id"] is None  # Tasks: no ids
                assert len(pose["keypoints"]) == 33
        assert max(counts) >= 2, counts  # the clip shows three people
        ws.send_text(json.dumps({"type": "config", "runtime": "litert", "num_poses": 1}))
        assert receive_until(ws, "config")["config"]["num_poses"] == 1
        ws.send_bytes(encode_frame(9, 1000.0, squat_jpegs()[0]))
        (pose,) = receive_until(ws, "result")["poses"]
        assert "track_id" in pose


MALFORMED: list[tuple[str, bytes | str, str]] = [
    ("not json", "hello", "bad_json"),
    ("json array", "[1, 2]", "bad_message"),
    ("unknown type", '{"type": "shutdown"}', "bad_message"),
    ("unknown config key", '{"type": "config", "path": "/etc/passwd"}', "bad_config"),
    ("unknown model", '{"type": "config", "model_type": "huge"}', "bad_config"),
    ("uninstalled runtime", '{"type": "config", "runtime": "tensorrt"}', "bad_config"),
    ("non-bool flag", '{"type": "config", "smoothing": "yes"}', "bad_config"),
    ("NaN ping id", '{"type": "ping", "id": NaN}', "bad_message"),
    ("huge text", '{"type": "ping", "id": "' + "x" * 5000 + '"}', "bad_message"),
    ("short binary", b"HPF1", "bad_frame"),
    (
        "wrong magic",
        encode_frame(1, 0.0, b"\xff\xd8\xff")[:16].replace(b"HPF1", b"JPEG") + b"x",
        "bad_frame",
    ),
    ("no image bytes", encode_frame(1, 0.0, b""), "bad_frame"),
    ("NaN timestamp", encode_frame(1, float("nan"), b"\xff\xd8\xff"), "bad_frame"),
    # Finite but huge: the core cannot turn it into microseconds (an OverflowError once).
    ("huge timestamp", encode_frame(1, 1e306, squat_jpegs()[0]), "bad_frame"),
    ("negative timestamp", encode_frame(1, -5.0, squat_jpegs()[0]), "bad_frame"),
    ("not an image", encode_frame(1, 0.0, b"GIF89a" + bytes(100)), "undecodable_image"),
    ("truncated jpeg", encode_frame(1, 0.0, b"\xff\xd8\xff\xe0\x00\x10JFIF"), "undecodable_image"),
]


@pytest.mark.parametrize(("label", "message", "code"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_messages_get_an_error_and_the_connection_survives(
    client: TestClient, label: str, message: bytes | str, code: str
) -> None:
    with client.websocket_connect(WS) as ws:
        ws.receive_json(), ws.receive_json()
        if isinstance(message, bytes):
            ws.send_bytes(message)
        else:
            ws.send_text(message)
        error = receive_until(ws, "error")
        assert error["code"] == code, error
        assert error["message"]
        ws.send_text('{"type": "ping", "id": 7}')
        assert receive_until(ws, "pong") == {"type": "pong", "id": 7}
        ws.send_bytes(encode_frame(2, 10.0, squat_jpegs()[0]))
        assert receive_until(ws, "result")["frame_id"] == 2


def test_oversized_frames_and_images_are_refused(client: TestClient) -> None:
    big = encode_frame(3, 0.0, b"\xff\xd8\xff" + bytes(64 * 1024))
    # A 20000 x 20000 JPEG header: refused from its header, before any decoding.
    sof = b"\xff\xd8\xff\xc0\x00\x11\x08" + (20000).to_bytes(2, "big") * 2 + bytes(10)
    with client.websocket_connect(WS) as ws:
        ws.receive_json(), ws.receive_json()
        ws.send_bytes(big)
        error = receive_until(ws, "error")
        assert error["code"] == "frame_too_large" and "65536" in error["message"]
        ws.send_bytes(encode_frame(4, 0.0, sof))
        error = receive_until(ws, "error")
        assert error["code"] == "undecodable_image" and "20000x20000" in error["message"]
        assert error["frame_id"] == 4
        ws.send_bytes(encode_frame(5, 10.0, squat_jpegs()[0]))
        assert receive_until(ws, "result")["frame_id"] == 5


def test_latest_frame_wins_when_the_client_sends_faster_than_the_server(
    client: TestClient,
) -> None:
    jpegs = squat_jpegs()
    with client.websocket_connect(WS) as ws:
        ws.receive_json(), ws.receive_json()
        sent = list(range(100, 140))
        for i, frame_id in enumerate(sent):
            ws.send_bytes(encode_frame(frame_id, 33.3 * i, jpegs[i % len(jpegs)]))
        answered, dropped = [], []
        while len(answered) + len(dropped) < len(sent):
            message = ws.receive_json()
            if message["type"] == "result":
                answered.append(message["frame_id"])
            elif message["type"] == "dropped":
                dropped.append(message["frame_id"])
        assert dropped, "40 frames sent at once: some must be dropped, not queued"
        assert sorted(answered + dropped) == sent  # every frame accounted for, once
        assert answered == sorted(answered)  # processed in order
        assert answered[-1] == sent[-1]  # the newest frame is always processed
        assert len(answered) < len(sent) / 2


def test_streams_are_independent_and_closing_frees_the_detector(client: TestClient) -> None:
    jpegs = squat_jpegs()
    first_ws, first, _ = open_stream(client)
    second_ws, second, _ = open_stream(client)
    assert info(client)["open_detectors"] == 2
    for i in range(4):
        first.send_bytes(encode_frame(10 + i, 100.0 * i, jpegs[i]))
        second.send_bytes(encode_frame(20 + i, 100.0 * i, jpegs[-1 - i]))
        assert receive_until(first, "result")["frame_id"] == 10 + i
        assert receive_until(second, "result")["frame_id"] == 20 + i
    first_ws.__exit__(None, None, None)
    wait_until(lambda: info(client)["open_detectors"] == 1)
    assert info(client)["sessions"] == 1
    second.send_bytes(encode_frame(99, 1000.0, jpegs[5]))
    assert receive_until(second, "result")["frame_id"] == 99
    second_ws.__exit__(None, None, None)
    wait_until(lambda: info(client)["open_detectors"] == 0)
    assert info(client)["sessions"] == 0


def test_too_many_streams_are_told_so_in_the_protocol(work_dir: Path) -> None:
    with make_client(work_dir, max_sessions=1) as client, client.websocket_connect(WS) as ws:
        ws.receive_json()
        with client.websocket_connect(WS) as refused:
            error = refused.receive_json()
            assert error["type"] == "error" and error["code"] == "too_many_streams", error
            assert "too many live streams" in error["message"] and "1 at once" in error["message"]
            with pytest.raises(WebSocketDisconnect) as closed:
                refused.receive_json()
            assert closed.value.code == 1013  # try again later
        assert info(client)["sessions"] == 1  # the refused stream never counted
        ws.send_text('{"type": "ping", "id": 1}')
        assert receive_until(ws, "pong")["id"] == 1


def test_a_stream_opened_as_the_last_one_closes_waits_for_its_slot(work_dir: Path) -> None:
    """A reloaded page's new socket can reach the server before the old one's close: at the
    limit, the new stream waits (up to ``SLOT_WAIT_S``) for the slot instead of being told
    ``too_many_streams`` at once."""
    answers: list[dict[str, Any]] = []

    def reload_page(client: TestClient) -> None:
        with client.websocket_connect(WS) as ws:
            answers.append(ws.receive_json())

    with make_client(work_dir, max_sessions=1) as client:
        old_ws, _, _ = open_stream(client)
        new_page = threading.Thread(target=reload_page, args=(client,))
        try:
            new_page.start()
            time.sleep(0.3)  # the new stream is waiting: the old one still holds the slot
            waiting = info(client)["sessions"] == 1 and not answers
        finally:  # an open stream would keep the client from shutting down
            old_ws.__exit__(None, None, None)
            new_page.join(timeout=30)
    assert waiting, answers
    assert [answer["type"] for answer in answers] == ["hello"], answers


# ---- safety -----------------------------------------------------------------------------


def test_non_loopback_host_needs_a_token() -> None:
    with pytest.raises(ValueError, match="--token"):
        ServeConfig(host="0.0.0.0")  # noqa: S104
    with pytest.raises(ValueError, match="at least 16"):
        ServeConfig(host="0.0.0.0", token="short")  # noqa: S104, S106


def test_token_is_required_on_every_api_and_the_websocket(work_dir: Path) -> None:
    with make_client(work_dir, host="0.0.0.0", token=TOKEN) as client:  # noqa: S104
        assert client.get("/").status_code == 200  # the page itself holds no data
        assert client.get("/api/info").status_code == 401
        assert client.get("/api/info?token=wrong-token-wrong-token").status_code == 401
        assert client.get(f"/api/info?token={TOKEN}").status_code == 200
        assert client.get("/api/info", headers={"X-Hifipose-Token": TOKEN}).status_code == 200
        assert client.post("/api/jobs?suffix=.mp4", content=b"x").status_code == 401
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(WS):
            pass
        assert refused.value.code == 1008
        with client.websocket_connect(f"{WS}?token={TOKEN}") as ws:
            assert ws.receive_json()["type"] == "hello"


def test_loopback_server_refuses_foreign_hosts_and_cross_origin_sockets(
    client: TestClient,
) -> None:
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example.
    assert client.get("/api/info", headers={"Host": "evil.example:8000"}).status_code == 421
    assert client.get("/api/info", headers={"Host": "localhost:8000"}).status_code == 200
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect(WS, headers={"Origin": "http://evil.example"}),
    ):
        pass
    with client.websocket_connect(WS, headers={"Origin": BASE}) as ws:
        assert ws.receive_json()["type"] == "hello"
    refused = client.post(
        "/api/jobs?suffix=.mp4", content=b"x", headers={"Origin": "http://evil.example"}
    )
    assert refused.status_code == 403


# ---- upload jobs ------------------------------------------------------------------------


def run_job(client: TestClient, body: bytes, query: str = "suffix=.mp4") -> dict[str, Any]:
    created = client.post(f"/api/jobs?{query}", content=body)
    assert created.status_code == 202, created.text
    job_id = created.json()["job_id"]
    progress: list[float] = []
    deadline = time.monotonic() + 120
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["progress"] is not None:
            progress.append(job["progress"])
        if job["state"] in {"done", "error"}:
            job["seen_progress"] = progress
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_upload_job_tracks_the_video_and_offers_every_output(
    client: TestClient, work_dir: Path, tmp_path: Path
) -> None:
    job = run_job(client, SQUATS.read_bytes(), "suffix=.MP4&model_type=lite&segmentation=1")
    assert job["state"] == "done", job
    assert job["frames_done"] == job["frames_with_pose"] == 65
    assert job["progress"] == 1.0 and job["seen_progress"] == sorted(job["seen_progress"])
    assert set(job["outputs"]) == {"jsonl", "csv", "parquet", "overlay"}
    base = f"/api/jobs/{job['job_id']}/files"
    lines = client.get(f"{base}/jsonl").text.splitlines()
    assert len(lines) == 65 and all(json.loads(line)["poses"] for line in lines)
    # Each frame names its source as the client knows the upload, never the server's path.
    assert {json.loads(line)["source"] for line in lines} == {"input.mp4"}
    assert len(client.get(f"{base}/csv").text.splitlines()) == 66  # header + 65 rows
    parquet = tmp_path / "k.parquet"
    parquet.write_bytes(client.get(f"{base}/parquet").content)
    assert pq.read_table(parquet).column("source").to_pylist() == ["input.mp4"] * 65
    overlay = client.get(f"{base}/overlay")
    assert "attachment" in overlay.headers["content-disposition"]
    video = tmp_path / "overlay.mp4"
    video.write_bytes(overlay.content)
    capture = cv2.VideoCapture(str(video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 65
    capture.release()
    # Every file the server wrote is inside its temporary folder, under generated names.
    (root,) = work_dir.iterdir()
    written = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert written == sorted(
        f"{job['job_id']}/{name}"
        for name in (
            "input.mp4",
            "keypoints.jsonl",
            "keypoints.csv",
            "keypoints.parquet",
            "overlay.mp4",
        )
    )


def test_upload_limits_and_bad_requests(client: TestClient, work_dir: Path) -> None:
    too_big = client.post("/api/jobs?suffix=.mp4", content=bytes((2 << 20) + 1))
    assert too_big.status_code == 413
    for query in ("suffix=.exe", "suffix=/../../etc/passwd", "suffix=", "suffix=.mp4&model_type=x"):
        assert client.post(f"/api/jobs?{query}", content=b"data").status_code == 400, query
    assert client.post("/api/jobs?suffix=.mp4", content=b"").status_code == 400
    assert client.post("/api/jobs?suffix=.mp4&smoothing=maybe", content=b"x").status_code == 400
    for count in ("0", "11", "-1", "2.5", "x"):
        refused = client.post(f"/api/jobs?suffix=.mp4&num_poses={count}", content=b"x")
        assert refused.status_code == 400 and "num_poses" in refused.json()["error"], count
    (root,) = work_dir.iterdir()
    assert list(root.iterdir()) == []  # refused uploads leave nothing behind


def test_a_holistic_upload_writes_hands_and_face_and_offers_the_face_file(
    client: TestClient, tmp_path: Path
) -> None:
    photo = (CROSSING.parent / "three_people.jpg").read_bytes()  # a face the lite model finds
    job = run_job(client, photo, "suffix=.jpg&model_type=lite&holistic=1")
    assert job["state"] == "done", job
    assert set(job["outputs"]) == {"jsonl", "csv", "parquet", "overlay", "face_csv"}
    base = f"/api/jobs/{job['job_id']}/files"
    (pose,) = json.loads(client.get(f"{base}/jsonl").text)["poses"]
    assert {"left_hand", "right_hand"} <= pose.keys()  # null here: not found
    assert pose["face"] is not None and len(pose["face"]["keypoints"]) == 468
    (tmp_path / "k.csv").write_bytes(client.get(f"{base}/csv").content)
    (tmp_path / "k.face.csv").write_bytes(client.get(f"{base}/face_csv").content)
    (frame,) = read_results(tmp_path / "k.csv")
    (read,) = frame.poses
    assert read.face is not None
    np.testing.assert_allclose(
        read.face.image_array, np.array(pose["face"]["keypoints"], np.float32), atol=1e-4
    )


def test_a_holistic_upload_on_mediapipes_own_holistic_has_hands_without_world_points(
    client: TestClient, tmp_path: Path
) -> None:
    """runtime=mediapipe runs MediaPipe's legacy Holistic: hands without world points or
    scores, which the files carry as nulls (this failed as a job error before)."""
    pytest.importorskip("mediapipe")
    photo = (SQUATS.parent / "pose.jpg").read_bytes()  # both hands found, no face
    job = run_job(client, photo, "suffix=.jpg&model_type=lite&holistic=1&runtime=mediapipe")
    assert job["state"] == "done", job
    base = f"/api/jobs/{job['job_id']}/files"
    (pose,) = json.loads(client.get(f"{base}/jsonl").text)["poses"]
    for side, label in (("left_hand", "Right"), ("right_hand", "Left")):
        hand = pose[side]
        assert hand["handedness"] == label and len(hand["keypoints"]) == 21
        assert hand["keypoints3d"] is None and hand["score"] is None
    (tmp_path / "k.parquet").write_bytes(client.get(f"{base}/parquet").content)
    (frame,) = read_results(tmp_path / "k.parquet")
    (read,) = frame.poses
    assert read.left_hand is not None and read.left_hand.world_array_m is None
    np.testing.assert_allclose(
        read.left_hand.image_array, np.array(pose["left_hand"]["keypoints"]), atol=1e-3
    )


def test_a_photo_uploaded_from_the_page_is_tracked_as_one_frame(
    client: TestClient, work_dir: Path
) -> None:
    """The page sends a photo with its own suffix, or (a phone's file) with a video's; the
    first was refused as "unsupported video type", the second failed with "give it an image
    suffix". Both are tracked now; a GIF is refused up front, and nothing is left of it."""
    photo = (SQUATS.parent / "pose.jpg").read_bytes()
    for query in ("suffix=.mp4", "suffix=.JPG"):
        job = run_job(client, photo, f"{query}&model_type=lite")
        assert job["state"] == "done", (query, job)
        assert job["frames_done"] == job["frames_with_pose"] == 1, job
        lines = client.get(f"/api/jobs/{job['job_id']}/files/jsonl").text.splitlines()
        assert len(lines) == 1 and len(json.loads(lines[0])["poses"]) == 1, lines
        assert json.loads(lines[0])["source"] == "input.jpg"
        assert client.get(f"/api/jobs/{job['job_id']}/files/overlay").status_code == 200
        folder = work_dir / next(work_dir.iterdir()) / job["job_id"]
        assert (folder / "input.jpg").is_file()  # named by what it is, not by its suffix
    gif = client.post("/api/jobs?suffix=.mp4", content=b"GIF89a" + bytes(64))
    assert gif.status_code == 400 and "GIF" in gif.json()["error"], gif.text
    assert info(client)["jobs"] == 2  # the GIF made no job


def test_upload_size_limit_holds_at_its_edge(client: TestClient, work_dir: Path) -> None:
    """The client's limit is 2 MiB: exactly that is taken, one byte more is refused, both when
    the request says its length and when it streams the body in chunks (no Content-Length),
    and a refused upload leaves no file."""
    limit = 2 << 20

    def chunked(size: int) -> Iterator[bytes]:
        for start in range(0, size, 1 << 16):
            yield bytes(min(1 << 16, size - start))

    assert client.post("/api/jobs?suffix=.mp4", content=bytes(limit)).status_code == 202
    assert client.post("/api/jobs?suffix=.mp4", content=chunked(limit)).status_code == 202
    for body in (bytes(limit + 1), chunked(limit + 1)):
        refused = client.post("/api/jobs?suffix=.mp4", content=body)
        assert refused.status_code == 413 and str(limit) in refused.json()["error"], refused.text
    assert info(client)["jobs"] == 2
    (root,) = work_dir.iterdir()
    assert len(list(root.iterdir())) == 2  # the refused uploads left no folder


def test_upload_job_tracks_several_people(work_dir: Path) -> None:
    """An upload with ``num_poses`` keeps every person in its keypoints (MediaPipe Tasks
    here: the own pipeline's tracker is checked in its own tests)."""
    with make_client(work_dir) as client:
        query = "suffix=.mp4&runtime=mediapipe&num_poses=3"
        job = run_job(client, CROSSING.read_bytes(), query)
        assert job["state"] == "done", job
        assert job["options"]["num_poses"] == 3
        lines = client.get(f"/api/jobs/{job['job_id']}/files/jsonl").text.splitlines()
    people = [len(json.loads(line)["poses"]) for line in lines]
    assert len(people) == 120 and max(people) == 3, people


def test_broken_video_ends_the_job_with_an_error(client: TestClient, work_dir: Path) -> None:
    job = run_job(client, b"this is not a video" * 100)
    assert job["state"] == "error" and job["error"]
    assert job["outputs"] == []
    # The server's folders are nobody's business: the file is named as the client knows it.
    assert str(work_dir) not in job["error"] and job["job_id"] not in job["error"], job["error"]
    assert "/" not in job["error"], job["error"]


def test_job_ids_and_file_kinds_are_looked_up_never_used_as_paths(client: TestClient) -> None:
    job = run_job(client, SQUATS.read_bytes(), "suffix=.mp4&model_type=lite")
    base = f"/api/jobs/{job['job_id']}"
    for path in (
        "/api/jobs/..%2F..%2Fetc",
        "/api/jobs/0123456789abcdef0123456789abcdef",
        f"{base}/files/input",
        f"{base}/files/..%2Finput.mp4",
        f"{base}/files/keypoints.jsonl",
        "/api/jobs/../../etc/passwd/files/jsonl",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"{base}/files/jsonl").status_code == 200


def test_temporary_folder_is_deleted_when_the_server_stops(work_dir: Path) -> None:
    with make_client(work_dir) as client:
        run_job(client, SQUATS.read_bytes(), "suffix=.mp4&model_type=lite")
        assert len(list(work_dir.iterdir())) == 1
    assert list(work_dir.iterdir()) == []


def test_the_servers_detector_options_reach_every_stream_and_upload(tmp_path: Path) -> None:
    """``serve --tiles 2 --detect-every 7 ...`` (``ServeConfig``'s detector) is where each
    stream's detector starts; the page's choices (model, people, mask, smoothing) go on top."""
    from hifipose.serve.app import _detector_factory
    from hifipose.serve.protocol import StreamOptions

    config = ServeConfig(work_dir=tmp_path, detector_tiles=2, detect_every=7, max_lost_ms=250.0)
    chosen = StreamOptions(model_type="full", num_poses=3, segmentation=True, smoothing=False)
    detector = _detector_factory(config)(chosen)
    try:
        got = detector.config
        assert (got.detector_tiles, got.detect_every, got.max_lost_ms) == (2, 7, 250.0)
        assert (got.model_type, got.num_poses, got.num_threads) == ("full", 3, 1)
        assert got.enable_segmentation and not got.enable_smoothing
    finally:
        detector.close()
