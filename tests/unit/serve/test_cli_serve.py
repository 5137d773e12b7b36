"""``hifipose serve`` argument handling: safe defaults, the token rule, a missing extra."""

from __future__ import annotations

import sys

import pytest

import hifipose.serve
from hifipose.cli import main
from hifipose.serve import ServeConfig


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[ServeConfig]:
    configs: list[ServeConfig] = []
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
