"""Every command and option explains itself, and the top-level help lists what exists."""

from __future__ import annotations

import click

from cfteval.cli import main


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")


def test_every_option_has_help_text():
    missing = [
        f"{name} {'/'.join(param.opts)}"
        for name, command in _commands(main)
        for param in command.params
        if isinstance(param, click.Option) and not param.help
    ]
    assert missing == []


def test_top_level_help_lists_every_command():
    text = main.get_help(click.Context(main, info_name="cfteval"))
    for name in ("eval", "regrade", "runs", "show", "leaderboard", "compare", "plot", "report"):
        assert f"  {name} " in text, name
    assert all(command.help for _, command in _commands(main))


def test_ctrl_c_in_a_command_with_nothing_to_resume_says_only_interrupted(monkeypatch) -> None:
    from click.testing import CliRunner

    import cfteval.benchmarks

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cfteval.benchmarks, "describe_benchmarks", interrupted)
    result = CliRunner().invoke(main, ["benchmarks"])
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted"
