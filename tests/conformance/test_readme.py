"""The README's "Check the emulator against your real account": the two commands, with flags
that exist."""
from __future__ import annotations

import re
from pathlib import Path

from emulator.cli import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Check the emulator against your real account"):README.index("\n## Vendors")]


def test_the_section_gives_the_two_commands_with_flags_that_exist():
    parsers = build_parser().subcommands
    for command in ("record", "verify"):
        lines = [line for line in SECTION.splitlines() if f"contact-emulator {command} " in line]
        assert lines, command
        known = {opt for action in parsers[command]._actions for opt in action.option_strings}
        used = {flag for line in lines for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]+", line)}
        assert used and used <= known, (command, used - known)


def test_the_section_documents_the_pytest_options_and_the_python_call():
    assert "--contact-emulator-record" in SECTION and "--contact-emulator-upstream" in SECTION
    assert "emulator.verify(" in SECTION
