"""The `rag` command tree as built (Typer -> click): every command and option that docs/cli.md lists exists, the groups
hold what they should (two groups registered under one name once hid `rag index rebuild`), and nothing is built
twice under one name."""

import re
from pathlib import Path

import pytest
import typer.main

from api.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
GROUPS = {
    "models": {"list", "fetch", "verify", "use", "rollback"},
    "eval": {"parse", "retrieval", "pages", "answers"},
    "index": {"versions", "rollback", "rebuild"},
    "keys": {"create", "list", "revoke"},
    "db": {"upgrade", "status"},
    "finetune": {"data", "train", "export", "embedder"},
    "documents": {"list", "show", "remove"},
    "feedback": {"export"},
}
COMMANDS = {"parse", "ingest", "search", "ask", "serve", "info", "worker", "reindex", "mcp"}


@pytest.fixture(scope="module")
def tree():
    return typer.main.get_command(app)


def test_the_groups_and_commands_are_all_there(tree):
    assert set(tree.commands) == COMMANDS | set(GROUPS)
    for group, commands in GROUPS.items():
        assert set(tree.commands[group].commands) == commands, group


def is_group(command) -> bool:
    return hasattr(command, "commands")  # Typer builds on its own copy of click: no isinstance(click.Group)


def documented() -> list[tuple[list[str], set[str]]]:
    """(command path, options) for every command in the first column of docs/cli.md's table."""
    out = []
    for line in DOC.read_text().splitlines():
        if not line.startswith("| `rag "):
            continue
        cell = line.split(" | ")[0].lstrip("| ")
        group: list[str] = []
        for part in re.findall(r"`([^`]+)`", cell):
            words = part.split()
            if words[0] == "rag":
                words = words[1:]
                group = []
            path = group + [w for w in words[:2] if re.fullmatch(r"[a-z]+", w)]
            path = path[:2] if path and path[0] in GROUPS else path[:1]
            if path and path[0] in GROUPS and not group:
                group = path[:1]
            options = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", part))
            out.append((path, options))
    return out


def test_every_documented_command_and_option_exists(tree):
    rows = documented()
    assert len(rows) >= 25, "docs/cli.md's table was not read"
    for path, options in rows:
        command = tree
        for name in path:
            assert is_group(command) and name in command.commands, f"`rag {' '.join(path)}` missing"
            command = command.commands[name]
        known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        assert options <= known, f"`rag {' '.join(path)}`: {sorted(options - known)} not among {sorted(known)}"


def test_every_command_is_documented(tree):
    paths = {tuple(p) for p, _ in documented()}
    for name, command in tree.commands.items():
        if is_group(command):
            for sub in command.commands:
                assert (name, sub) in paths, f"`rag {name} {sub}` is not in docs/cli.md"
        else:
            assert (name,) in paths, f"`rag {name}` is not in docs/cli.md"
