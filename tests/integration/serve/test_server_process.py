"""A real ``hifipose serve`` process: the port it announces, a page reload at
``--max-sessions``, and a log without the native libraries' lines."""

from __future__ import annotations

import json
import time
from pathlib import Path

from websockets.sync.client import connect

from hifipose.serve.protocol import encode_frame
from tests.integration.serve.helpers import SQUATS, clip_jpegs, get_json, running_server

#: What LiteRT prints each time an interpreter is created, unless taken out.
XNNPACK_LINE = "Created TensorFlow Lite XNNPACK delegate"


def test_port_0_reload_at_max_sessions_and_no_native_log_lines(tmp_path: Path) -> None:
    """``--port 0`` is announced as the port the system picked (it was announced as ``:0``);
    at ``--max-sessions 1`` a page reload (the old socket closed while its frame is still
    being tracked, the new one opened at once) gets its stream (it was told
    ``too_many_streams``, the closed stream's slot being held until its detector closed); and
    the log has none of LiteRT's XNNPACK lines, one per stream before."""
    big_frame = clip_jpegs(SQUATS, 720, 1)[0]  # full size: the frame takes a while to track
    with running_server(tmp_path, "--max-sessions", "1", "--model", "full") as server:
        assert ":0/" not in server.base_url
        assert get_json(f"{server.base_url}/api/info")["limits"]["max_sessions"] == 1
        for reload in range(3):
            with connect(server.ws_url, open_timeout=30) as page:
                assert json.loads(page.recv(timeout=30))["type"] == "hello"
                assert json.loads(page.recv(timeout=60))["type"] == "config"
                page.send(encode_frame(reload, 0.0, big_frame))
                time.sleep(0.05)  # the frame is being tracked when the page goes away
            with connect(server.ws_url, open_timeout=30) as reloaded:
                hello = json.loads(reloaded.recv(timeout=30))
                assert hello["type"] == "hello", (reload, hello)
                assert json.loads(reloaded.recv(timeout=60))["type"] == "config"
                reloaded.send(encode_frame(10 + reload, 0.0, big_frame))
                result = json.loads(reloaded.recv(timeout=60))
                assert result["type"] == "result" and len(result["poses"]) == 1, result
        deadline = time.monotonic() + 30
        while get_json(f"{server.base_url}/api/info")["open_detectors"]:
            assert time.monotonic() < deadline, "a closed stream's detector stayed open"
            time.sleep(0.1)
    log = server.log()
    assert log.startswith("hifipose serve: open http://127.0.0.1:"), log
    assert XNNPACK_LINE not in log, log
    assert "@ 0x" not in log, log  # FFmpeg's "[mjpeg @ 0x…] …" lines
