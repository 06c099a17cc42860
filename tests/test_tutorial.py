"""The tutorial is true: its commands, run again, print what it shows, and its code is the scaffold's.

Each ``console`` block of ``docs/tutorial.md`` holds commands (``$ ``, continued by
a trailing backslash) and what each printed. The slow test runs them in order in
one shell, in a fresh venv with bluepaid-plugins installed from this checkout (as the
tutorial asks of its reader), and compares the output after :func:`normalise` (paths,
timings, random tokens, the schema's revision, the versions pip installs); a line
``[…]`` in the tutorial stands for lines left out. Each ``python`` and ``toml`` block is an
excerpt of the package the scaffold writes.
"""

from __future__ import annotations

import difflib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.scaffold import new_connector
from tests.hub.test_scaffold import fresh_venv

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
LEFT_OUT = "[…]"
_FENCE = re.compile(r"^```(\w*)\s*$")
_MARK = "<<<tutorial step {}>>>"


@dataclass(frozen=True)
class Step:
    """One command of the tutorial and the lines it is shown to print."""

    line: int
    command: str
    output: tuple[str, ...]


def blocks(text: str, language: str) -> list[tuple[int, list[str]]]:
    """The fenced blocks of ``language``: the line each starts on and its lines."""
    found: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        fence = _FENCE.match(line)
        if current is None and fence and fence.group(1) == language:
            current = []
            found.append((number + 1, current))
        elif current is not None and fence and not fence.group(1):
            current = None
        elif current is not None:
            current.append(line)
    return found


def console_steps(text: str) -> list[Step]:
    steps: list[Step] = []
    for start, lines in blocks(text, "console"):
        index = 0
        while index < len(lines):
            line = lines[index]
            assert line.startswith("$ "), f"tutorial line {start + index}: output before any command"
            number, command = start + index, line[2:]
            while command.endswith("\\"):
                index += 1
                command += "\n" + lines[index]
            index += 1
            output: list[str] = []
            while index < len(lines) and not lines[index].startswith("$ "):
                output.append(lines[index])
                index += 1
            steps.append(Step(number, command, tuple(output)))
    return steps


def normalise(lines: list[str] | tuple[str, ...], work: Path | None = None) -> list[str]:
    """``lines`` without what changes from one run to the next."""
    clean = []
    for line in lines:
        if work is not None:
            line = line.replace(str(work), "~/work")
        line = re.sub(r"(/confirm/[^/\s]+/)[A-Za-z0-9_-]{16,}", r"\1<token>", line)
        line = re.sub(r"\bin \d+(\.\d+)?s\b", "in <time>", line)
        line = re.sub(r"^database is at revision \w+$", "database is at revision <newest>", line)
        if line.startswith("Successfully installed "):
            # What pip installs for the test extra is the same, at the versions of the day.
            line = re.sub(r"-\d\S*", "-<version>", line)
        # pytest centres its summary lines in '=': their width follows the timing.
        line = re.sub(r"^=+ (.+?) =+$", r"== \1 ==", line)
        clean.append(line.rstrip())
    while clean and not clean[-1]:
        clean.pop()
    return clean


def fits(shown: list[str], printed: list[str]) -> bool:
    """Whether ``printed`` is ``shown`` with some lines where ``shown`` has ``[…]``."""
    chunks: list[list[str]] = [[]]
    for line in shown:
        if line == LEFT_OUT:
            chunks.append([])
        else:
            chunks[-1].append(line)
    if len(chunks) == 1:
        return shown == printed
    first, *middle, last = chunks
    end = len(printed) - len(last)
    if printed[: len(first)] != first or end < len(first) or printed[end:] != last:
        return False
    position = len(first)
    for chunk in middle:
        for start in range(position, end - len(chunk) + 1):
            if printed[start : start + len(chunk)] == chunk:
                position = start + len(chunk)
                break
        else:
            return False
    return True


def run_steps(steps: list[Step], work: Path, env: dict[str, str]) -> list[list[str]]:
    """Run ``steps`` in order in one shell started in ``work``; what each printed."""
    script = [f"cd {work}"]
    for number, step in enumerate(steps):
        script += [f"printf '\\n%s\\n' '{_MARK.format(number)}'", f"{step.command} 2>&1"]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.stderr == "", result.stderr
    printed = []
    rest = result.stdout
    for number in range(len(steps)):
        before, _, rest = rest.partition(_MARK.format(number) + "\n")
        if number:
            printed.append(before.splitlines())
    printed.append(rest.splitlines())
    return printed


@pytest.mark.parametrize(
    ("shown", "printed", "fit"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "c"], False),
        (["a", LEFT_OUT, "z"], ["a", "b", "c", "z"], True),
        (["a", LEFT_OUT, "z"], ["a", "z", "b"], False),
        ([LEFT_OUT, "c", LEFT_OUT], ["a", "b", "c", "d"], True),
        ([LEFT_OUT, "c", "b", LEFT_OUT], ["a", "b", "c", "d"], False),
        ([LEFT_OUT, "last"], ["last"], True),
        (["a", LEFT_OUT, "a"], ["a"], False),
    ],
)
def test_left_out_lines_stand_for_any_lines_in_their_place(
    shown: list[str], printed: list[str], fit: bool
) -> None:
    assert fits(shown, printed) is fit


def test_what_changes_between_runs_is_normalised(tmp_path: Path) -> None:
    printed = [
        f"rootdir: {tmp_path}/pkg   ",
        "confirmation_url: http://127.0.0.1:5000/confirm/acme/V9574NMCAVGDK66teT9tQ7-FXTCSX4FI",
        "============================== 32 passed in 10.85s ==============================",
        "database is at revision 0004",
        "Successfully installed bluepaid-acme-shop-0.1.0 iniconfig-2.3.1 pytest-9.2.0",
        "",
    ]

    assert normalise(printed, tmp_path) == [
        "rootdir: ~/work/pkg",
        "confirmation_url: http://127.0.0.1:5000/confirm/acme/<token>",
        "== 32 passed in <time> ==",
        "database is at revision <newest>",
        "Successfully installed bluepaid-acme-shop-<version> iniconfig-<version> pytest-<version>",
    ]


def test_commands_run_on_across_a_trailing_backslash() -> None:
    text = "```console\n$ bluepaid shop add a \\\n    --no-check\nshop: a\n$ cd ..\n```\n"

    assert console_steps(text) == [
        Step(2, "bluepaid shop add a \\\n    --no-check", ("shop: a",)),
        Step(5, "cd ..", ()),
    ]


def test_the_tutorial_has_commands_and_excerpts() -> None:
    text = TUTORIAL.read_text("utf-8")

    commands = [step.command.split()[:2] for step in console_steps(text)]
    assert ["bluepaid", "new-connector"] in commands
    assert ["bluepaid", "plugins"] in commands
    assert blocks(text, "python")


def test_the_python_excerpts_are_the_code_the_scaffold_writes(tmp_path: Path) -> None:
    written = new_connector("acme_shop", tmp_path / "bluepaid-acme-shop")
    sources = [(tmp_path / "bluepaid-acme-shop" / name).read_text("utf-8") for name in written.files]

    text = TUTORIAL.read_text("utf-8")
    for start, lines in blocks(text, "python") + blocks(text, "toml"):
        excerpt = "\n".join(lines) + "\n"
        assert any(excerpt in source for source in sources), (
            f"the block at tutorial line {start} is not in the generated package"
        )


@pytest.mark.slow
def test_every_command_of_the_tutorial_prints_what_it_shows(tmp_path: Path) -> None:
    steps = console_steps(TUTORIAL.read_text("utf-8"))
    venv = fresh_venv(tmp_path / "venv")
    work = tmp_path / "work"
    work.mkdir()

    printed = run_steps(steps, work, venv.env())

    wrong = []
    for step, lines in zip(steps, printed, strict=True):
        shown, got = normalise(step.output), normalise(lines, work)
        if not fits(shown, got):
            diff = difflib.unified_diff(shown, got, "tutorial", "printed", lineterm="")
            wrong.append(f"line {step.line}: $ {step.command}\n" + "\n".join(diff))
    assert wrong == [], "\n\n".join(wrong)
