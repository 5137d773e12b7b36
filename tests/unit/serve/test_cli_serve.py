"""``hifipose serve`` argument handling: safe defaults, the token rule, a missing extra."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

import hifipose.serve
from hifipose.cli import main
from hifipose.serve import ServeConfig


class UnboundListener:
    """Stands for the bound socket: reports the asked port, binds none (8000 may be taken)."""

    def __init__(self, config: ServeConfig) -> None:
        self.port = config.port

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[ServeConfig]:
    """Record the config instead of serving (and bind no port: 8000 may be taken here)."""
    configs: list[ServeConfig] = []
    monkeypatch.setattr(hifipose.serve, "open_listener", UnboundListener)
    monkeypatch.setattr(hifipose.serve, "run_server", lambda config, **_: configs.append(config))
    return configs


def test_defaults_bind_loopback_without_token(
    started: list[ServeConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve"]) == 0
    (config,) = started
    assert (config.host, config.port, config.token) == ("127.0.0.1", 8000, None)
    assert "http://127.0.0.1:8000/" in capsys.readouterr().out


def test_all_interfaces_without_token_warns_and_generates_one(
    started: list[ServeConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "9000"]) == 0  # noqa: S104
    (config,) = started
    assert config.token is not None and len(config.token) >= 16
    out, err = capsys.readouterr()
    assert "WARNING" in err and config.token in err
    assert f"?token={config.token}" in out


def test_given_token_is_used(started: list[ServeConfig]) -> None:
    token = "0123456789abcdef0123"  # noqa: S105 - a test value
    assert main(["serve", "--host", "0.0.0.0", "--token", token]) == 0  # noqa: S104
    assert started[0].token == token


def test_short_token_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--token", "short"]) == 1
    assert capsys.readouterr().err.strip().startswith("hifipose: error: token must have")


def test_missing_extra_names_the_install_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn → ImportError
    assert main(["serve"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "pip install 'hifipose[serve]'" in err


def test_limits_people_and_tls_options_reach_the_config(
    started: list[ServeConfig], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    argv = ["serve", "--max-sessions", "3", "--num-poses", "4"]
    assert main([*argv, "--certfile", str(cert), "--keyfile", str(key)]) == 0
    (config,) = started
    assert (config.max_sessions, config.num_poses) == (3, 4)
    assert (config.certfile, config.keyfile) == (cert, key)
    assert "open https://127.0.0.1:8000/" in capsys.readouterr().out


def test_default_session_limit_is_bounded(started: list[ServeConfig]) -> None:
    assert main(["serve"]) == 0
    assert started[0].max_sessions == 16
    assert started[0].num_poses == 1


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--max-sessions", "0"], "max_sessions must be a positive integer"),
        (["--num-poses", "0"], "num_poses must be in [1, 10]"),
        (["--certfile", "cert.pem"], "HTTPS needs both --certfile and --keyfile"),
    ],
)
def test_impossible_options_are_one_line_errors(
    started: list[ServeConfig], capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    assert main(["serve", *argv]) == 1
    out, err = capsys.readouterr()
    assert err.strip() == f"hifipose: error: {expected}" or expected in err, err
    assert len(err.strip().splitlines()) == 1 and "open http" not in out
    assert started == []


def test_busy_port_is_an_error_before_the_url_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: list[ServeConfig] = []
    monkeypatch.setattr(hifipose.serve, "run_server", lambda config, **_: served.append(config))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    out, err = capsys.readouterr()
    assert "open http" not in out, out
    assert served == []
    (line,) = err.strip().splitlines()
    assert line.startswith(f"hifipose: error: cannot listen on 127.0.0.1 port {port}"), line
    assert "another server" in line and "--port" in line


def test_port_0_announces_the_port_the_system_picked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``serve --port 0`` printed ``http://127.0.0.1:0/``: the page cannot be opened there."""
    bound: list[int] = []

    def serve(config: ServeConfig, *, sock: socket.socket, **_: object) -> None:
        bound.append(sock.getsockname()[1])
        sock.close()

    monkeypatch.setattr(hifipose.serve, "run_server", serve)
    assert main(["serve", "--port", "0"]) == 0
    (port,) = bound
    assert port > 0
    assert f"open http://127.0.0.1:{port}/  (Ctrl-C stops)" in capsys.readouterr().out


def test_unreadable_tls_files_are_an_error_before_the_url_is_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")
    argv = ["serve", "--port", "0", "--certfile", str(cert), "--keyfile", str(tmp_path / "k")]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "open http" not in out
    (line,) = err.strip().splitlines()
    assert line.startswith(f"hifipose: error: cannot use --certfile {cert}"), line
