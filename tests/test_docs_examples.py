"""Every shell command shown in README.md and docs/ runs, with its exit code and output checked (issue 16).

The convention (docs/index.md says it for writers):

* A fenced block marked ``console`` holds commands after ``$ `` and, below each command, the
  output it prints (stdout and stderr as one stream, as a terminal shows them). A line ``...``
  stands for any number of lines, ``...`` inside a line for any text; a command shown without
  output has its output unchecked. Lines starting with ``#`` are comments.
* A fenced block marked ``sh`` holds commands only, one a line (``\\`` continues a line); their
  output is not checked.
* Every command must exit 0, unless its comment starts with ``exit N`` (``egif validate bad.xml
  # exit 1: ...``).
* ``<!-- docs-test: not run: REASON -->`` on the line before a block leaves that block out (a remote
  server, a PostgreSQL database); these are counted below and must stay few.
* ``<!-- docs-test: run: COMMAND -->`` runs COMMAND, unseen by readers, at that point of the page
  (set-up a reader has already done in an earlier section, e.g. adding a schema).

The commands of one page run in order in one shell (later ones use what earlier ones made), in a
fresh working directory where ``schemas``, ``fixtures`` and ``tests`` are the repository's (as in a
clone), with a private home, user data directory (so the per-user registry is new) and no network.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import REPO

PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "docs" / "standards").glob("*.md")])
GENERATED = {REPO / "docs" / "cli.md"}  # --help output, checked by test_docs.py
RUN_LANGS = {"console", "sh"}
OPTIONAL_TOOLS = {"xmllint": "Debian libxml2-utils; .ci/run installs it", "ssh-keygen": "OpenSSH's client"}
MAX_NOT_RUN = 10  # each one says why; raise this only with a reason no test can meet

FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(not run|run):\s*(.*?)\s*-->\s*$")
EXIT = re.compile(r"#\s*exit\s+(\d+)\b")


@dataclass
class Command:
    page: str
    line: int
    text: str
    exit_code: int = 0
    expected: list[str] | None = None  # None: output not checked
    hidden: bool = False


@dataclass
class Page:
    path: Path
    commands: list[Command] = field(default_factory=list)
    not_run: list[tuple[int, str]] = field(default_factory=list)
    stray: list[tuple[int, str]] = field(default_factory=list)  # shell prompts in blocks that are not run


def _exit_code(command: str) -> int:
    """The exit code a command's trailing comment promises (``# exit N``), else 0."""
    hash_at = _comment_start(command)
    if hash_at is None:
        return 0
    match = EXIT.match(command[hash_at:])
    return int(match.group(1)) if match else 0


def _comment_start(command: str) -> int | None:
    """Where a shell comment starts in ``command`` (a ``#`` after blank space, outside quotes)."""
    quote = ""
    for i, char in enumerate(command):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or command[i - 1].isspace()):
            return i
    return None


def _logical_lines(lines: list[str], start: int) -> list[tuple[int, str]]:
    """(line number, text) with backslash continuations joined."""
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        number, text = start + i, lines[i]
        while text.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text.rstrip()[:-1].rstrip() + " " + lines[i].strip()
        out.append((number, text))
        i += 1
    return out


def parse(path: Path, root: Path = REPO) -> Page:
    page = Page(path)
    name = str(path.relative_to(root))
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    pending_not_run: str | None = None
    while i < len(lines):
        marker = MARKER.match(lines[i])
        if marker:
            if marker.group(1) == "not run":
                if not marker.group(2):
                    raise AssertionError(f"{name}:{i + 1}: 'not run' needs a reason")
                pending_not_run = marker.group(2)
            else:
                page.commands.append(Command(name, i + 1, marker.group(2), hidden=True))
            i += 1
            continue
        fence = FENCE.match(lines[i])
        if not fence:
            if lines[i].strip():
                pending_not_run = None
            i += 1
            continue
        indent, lang = fence.group(1), fence.group(2)
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[i + 1:end]]
        if pending_not_run is not None:
            page.not_run.append((i + 1, pending_not_run))
        elif lang in RUN_LANGS:
            _read_block(page, name, lang, body, i + 2)
        else:
            page.stray.extend((i + 2 + k, text) for k, text in enumerate(body) if text.startswith("$ "))
        pending_not_run = None
        i = end + 1
    return page


def _read_block(page: Page, name: str, lang: str, body: list[str], first: int) -> None:
    if lang == "sh":
        for number, text in _logical_lines(body, first):
            if text.strip() and not text.lstrip().startswith("#"):
                page.commands.append(Command(name, number, text.strip(), _exit_code(text)))
        return
    current: Command | None = None
    k = 0
    while k < len(body):
        text = body[k]
        if text.startswith("$ "):
            number = first + k
            joined = text[2:]
            while joined.rstrip().endswith("\\") and k + 1 < len(body):
                k += 1
                joined = joined.rstrip()[:-1].rstrip() + " " + body[k].strip()
            current = Command(name, number, joined.strip(), _exit_code(joined))
            page.commands.append(current)
        elif not text.strip():
            current = None  # a blank line ends the output shown
        elif text.lstrip().startswith("# ") or text.strip() == "#":
            pass
        elif current is None:
            raise AssertionError(f"{name}:{first + k}: output line with no command above it: {text!r}")
        else:
            current.expected = [*(current.expected or []), text.rstrip()]
        k += 1


def _line_matches(expected: str, actual: str) -> bool:
    parts = [re.escape(part) for part in expected.split("...")]
    return re.fullmatch(".*?".join(parts), actual.rstrip(), re.S) is not None


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Each expected line matches one actual line, in order; a line ``...`` matches any number of lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(output_matches(rest, actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and _line_matches(head, actual[0]) and output_matches(rest, actual[1:])


PARSED = {path: parse(path) for path in PAGES if path not in GENERATED}
RUNNABLE = [path for path, page in PARSED.items() if page.commands]


def _environment(tmp_path: Path) -> dict[str, str]:
    venv_bin = Path(sys.executable).parent
    env = {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "home" / ".local" / "share"),
        "XDG_CACHE_HOME": str(tmp_path / "home" / ".cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
        "TMPDIR": str(tmp_path / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "TERM": "dumb",
        "EGIF_USER": "alice",
    }
    for folder in ("home", "tmp"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    return env


def run_page(page: Page, tmp_path: Path) -> list[tuple[int, str]]:
    """Run every command of a page in one shell; (exit code, output) per command."""
    work = tmp_path / "work"
    work.mkdir()
    for shipped in ("schemas", "fixtures", "tests"):
        (work / shipped).symlink_to(REPO / shipped)
    results = tmp_path / "results"
    results.mkdir()
    script = ["set +e"]
    for n, command in enumerate(page.commands):
        script.append(f"cd {shlex.quote(str(work))} 2>/dev/null || true" if n == 0 else "")
        script.append(f"{{\n{command.text}\n}} >{results}/{n}.out 2>&1 </dev/null")
        script.append(f"echo $? >{results}/{n}.rc")
    subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=_environment(tmp_path),
                   timeout=900, check=False, stdin=subprocess.DEVNULL)
    out: list[tuple[int, str]] = []
    for n in range(len(page.commands)):
        rc = results / f"{n}.rc"
        code = int(rc.read_text()) if rc.exists() else -1
        out.append((code, (results / f"{n}.out").read_text(encoding="utf-8", errors="replace")))
    return out


@pytest.mark.parametrize("path", RUNNABLE, ids=[str(p.relative_to(REPO)) for p in RUNNABLE])
def test_page_examples_run_as_shown(path: Path, tmp_path: Path) -> None:
    page = PARSED[path]
    for tool in OPTIONAL_TOOLS:
        if shutil.which(tool) is None and any(re.search(rf"(^|[\s;&|]){tool}\s", c.text) for c in page.commands):
            pytest.skip(f"{tool} is not installed ({OPTIONAL_TOOLS[tool]})")
    problems: list[str] = []
    for command, (code, output) in zip(page.commands, run_page(page, tmp_path), strict=True):
        where = f"{command.page}:{command.line}: $ {command.text}"
        actual = output.rstrip("\n").splitlines()
        if code != command.exit_code:
            problems.append(f"{where}\n  exit {code}, expected {command.exit_code}\n  " + "\n  ".join(actual[-15:]))
        elif command.expected is not None and not output_matches(command.expected, actual):
            problems.append(f"{where}\n  output differs; expected:\n    " + "\n    ".join(command.expected)
                            + "\n  got:\n    " + "\n    ".join(actual[:40]))
    assert not problems, "\n\n".join(problems)


def test_blocks_left_out_are_few_and_say_why() -> None:
    left_out = [(path.relative_to(REPO), line, reason)
                for path, page in PARSED.items() for line, reason in page.not_run]
    assert len(left_out) <= MAX_NOT_RUN, "too many examples are not run:\n" + "\n".join(map(str, left_out))
    for _, _, reason in left_out:
        assert len(reason.split()) >= 3, f"say why an example is not run, not {reason!r}"


def test_no_shell_prompt_hides_in_a_block_that_is_not_run() -> None:
    stray = [f"{path.relative_to(REPO)}:{line}: {text}" for path, page in PARSED.items() for line, text in page.stray]
    assert not stray, "commands in blocks that are not ```console or ```sh (so never run):\n" + "\n".join(stray)


# The convention itself, on small pages


def _page_from(tmp_path: Path, text: str) -> Page:
    doc = tmp_path / "page.md"
    doc.write_text(text, encoding="utf-8")
    return parse(doc, root=tmp_path)


def test_console_blocks_give_commands_output_and_exit_codes(tmp_path: Path) -> None:
    page = _page_from(tmp_path, (
        "Intro\n\n```console\n# a comment\n$ echo one \\\n    two   # exit 3: why\none two\n\n"
        "$ true\n```\n\n<!-- docs-test: run: touch x -->\n```sh\nls x   # the file\n```\n"
        "<!-- docs-test: not run: needs a real server -->\n```console\n$ curl https://example.org/\n```\n"
        "```text\n$ stray\n```\n"))
    assert [(c.text, c.exit_code, c.expected, c.hidden) for c in page.commands] == [
        ("echo one two   # exit 3: why", 3, ["one two"], False),
        ("true", 0, None, False),
        ("touch x", 0, None, True),
        ("ls x   # the file", 0, None, False),
    ]
    assert page.not_run == [(17, "needs a real server")]
    assert page.stray == [(21, "$ stray")]


def test_output_matching_with_ellipses() -> None:
    assert output_matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert output_matches(["a", "...", "b"], ["a", "b"])
    assert output_matches(["digest 3f0c..."], ["digest 3f0c9a1e"])
    assert not output_matches(["a", "d"], ["a", "b", "d"])
    assert not output_matches(["a"], ["a", "b"])
    assert not output_matches(["digest 3f0c..."], ["digest 4f0c9a1e"])


def test_a_command_failing_or_printing_otherwise_is_reported(tmp_path: Path) -> None:
    page = _page_from(tmp_path, "```console\n$ echo hello\nhello\n$ sh -c 'exit 2'   # exit 2\n$ false\n```\n")
    results = run_page(page, tmp_path)
    assert [code for code, _ in results] == [0, 2, 1]
    assert results[0][1] == "hello\n"


# Commands named in the prose (`egif lint --explain RULE`): not run, but their commands and options must exist


def _prose_commands() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in PARSED:
        text = re.sub(r"^\s*```.*?^\s*```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
        for span in re.findall(r"`(egif [^`]+)`", text.replace("\n", " ")):
            found.append((str(path.relative_to(REPO)), " ".join(span.replace("\\", "").split())))
    return found


def prose_command_problem(span: str) -> str | None:
    """Why ``span`` (``egif lifecycle approve REF [--reason]``) names no real command or option, else None."""
    import click
    from egif_cli.app import cli

    words = [word.strip("[]") for word in span.split()[1:] if word not in ("...", "\u2026", "-")]
    command: click.Command = cli
    expects_value = False
    for word in words:
        if expects_value:
            expects_value = False
            continue
        if word.startswith("-"):
            name = word.split("=")[0]
            matches = [p for p in command.params if name in (*p.opts, *p.secondary_opts)]
            if not matches:
                return f"egif {command.name}: no option {name}"
            expects_value = not (isinstance(matches[0], click.Option) and matches[0].is_flag) and "=" not in word
        elif isinstance(command, click.Group):
            sub = command.get_command(click.Context(command), word)
            if sub is None:
                return f"egif {command.name}: no command {word!r}"
            command = sub
        # else: an argument (a placeholder such as REF, or a real value)
    return None


def test_commands_named_in_the_prose_exist() -> None:
    spans = [(page, span) for page, span in _prose_commands() if not span.split()[1].startswith("(")]
    assert len(spans) > 40
    problems = [f"{page}: `{span}`: {why}" for page, span in spans if (why := prose_command_problem(span))]
    assert not problems, "\n".join(problems)


def test_a_misnamed_option_in_the_prose_is_caught() -> None:
    assert prose_command_problem("egif schema add FILE --status draft") == "egif add: no option --status"
    assert prose_command_problem("egif lifecycle aprove REF") == "egif lifecycle: no command 'aprove'"
    assert prose_command_problem("egif --registry team.sqlite schema list --format json") is None
