"""The autograd-lite command dispatcher."""

from __future__ import annotations

import pytest

from autograd_lite import cli


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in cli.COMMANDS) and {"demo", "explain", "mnist"} <= set(cli.COMMANDS)


def test_no_command_and_unknown_command_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage: autograd-lite COMMAND" in capsys.readouterr().err
    assert cli.main(["nonsense"]) == 2
    assert "unknown command 'nonsense'" in capsys.readouterr().err
