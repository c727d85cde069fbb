"""No traceback reaches the user: one line and exit code 1, the traceback only with --debug."""

from __future__ import annotations

import importlib

import pytest

cli = importlib.import_module("classifier.cli")


def _broken_app() -> None:
    raise RuntimeError("something nobody foresaw")


def test_an_unexpected_error_is_one_line_and_exit_code_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "app", _broken_app)
    monkeypatch.setattr("sys.argv", ["painclf", "label", "x.csv"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "RuntimeError: something nobody foresaw" in err and "--debug" in err


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "app", _broken_app)
    monkeypatch.setattr("sys.argv", ["painclf", "--debug", "label", "x.csv"])
    with pytest.raises(RuntimeError, match="nobody foresaw"):
        cli.main()


def test_an_os_error_names_its_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full_disk() -> None:
        raise OSError(28, "No space left on device", "/data/out.csv")

    monkeypatch.setattr(cli, "app", full_disk)
    monkeypatch.setattr("sys.argv", ["painclf", "train"])
    with pytest.raises(SystemExit):
        cli.main()
    assert "/data/out.csv" in capsys.readouterr().err
