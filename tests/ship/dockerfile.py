"""A small reader of the project's Dockerfile and .dockerignore, for tests that cannot build the image.

It understands what the project's Dockerfile uses: comments, line continuations, stages
(``FROM ... AS name``), exec-form (JSON) ``CMD``/``ENTRYPOINT``/``HEALTHCHECK CMD``,
``ENV`` in ``KEY=value`` form, ``COPY`` with flags, and .dockerignore patterns with ``**``
and ``!`` exceptions (last match wins, a pattern matching a folder covers its contents).
"""
from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    @property
    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for inst in self.all("ENV"):
            for word in shlex.split(inst.args):
                key, sep, value = word.partition("=")
                if not sep:
                    raise ValueError(f"line {inst.line}: ENV must use KEY=value, got {inst.args!r}")
                out[key] = value
        return out

    def exec_form(self, keyword: str) -> list[str]:
        inst = self.last(keyword)
        if inst is None:
            return []
        return parse_exec(inst.args, inst.line)

    @property
    def command(self) -> list[str]:
        """What a container of this stage runs: ENTRYPOINT followed by CMD."""
        return self.exec_form("ENTRYPOINT") + self.exec_form("CMD")

    @property
    def healthcheck(self) -> tuple[dict[str, str], list[str]]:
        """(options, exec-form command) of the last HEALTHCHECK."""
        inst = self.last("HEALTHCHECK")
        if inst is None:
            return {}, []
        options: dict[str, str] = {}
        rest = inst.args
        while rest.startswith("--"):
            word, _, rest = rest.partition(" ")
            key, _, value = word[2:].partition("=")
            options[key] = value
            rest = rest.lstrip()
        keyword, _, command = rest.partition(" ")
        if keyword.upper() != "CMD":
            raise ValueError(f"line {inst.line}: HEALTHCHECK must be 'CMD [...]', got {rest!r}")
        return options, parse_exec(command, inst.line)

    def copies(self) -> list[tuple[dict[str, str], list[str], str]]:
        """Every COPY as (flags, sources, destination)."""
        out = []
        for inst in self.all("COPY"):
            words = shlex.split(inst.args)
            flags = {}
            while words and words[0].startswith("--"):
                key, _, value = words.pop(0)[2:].partition("=")
                flags[key] = value
            out.append((flags, words[:-1], words[-1]))
        return out


def parse_exec(text: str, line: int) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError(f"line {line}: not exec (JSON) form: {text!r}") from None
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ValueError(f"line {line}: exec form must be a JSON list of strings: {text!r}")
    return value


def parse_dockerfile(path: Path) -> list[Stage]:
    """The stages of a Dockerfile, in order, each with its instructions."""
    stages: list[Stage] = []
    logical, start = "", 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = raw.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if logical and stripped.startswith("#"):
            continue  # a comment line inside a continued instruction
        if not logical:
            start = number
        if stripped.endswith("\\"):
            logical += stripped[:-1].rstrip() + " "
            continue
        logical += stripped
        keyword, _, args = logical.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image=words[0], name=name))
        elif not stages:
            raise ValueError(f"line {start}: {keyword} before the first FROM")
        else:
            stages[-1].instructions.append(Instruction(keyword, args, start))
        logical = ""
    return stages


# -- .dockerignore ---------------------------------------------------------------------
def _pattern_regex(pattern: str) -> re.Pattern:
    pattern = pattern.strip("/")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def read_dockerignore(path: Path) -> list[tuple[bool, str, re.Pattern]]:
    """(is exception, pattern, regex) per pattern line of a .dockerignore."""
    rules = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            text = line[1:] if negate else line
            rules.append((negate, text.strip("/"), _pattern_regex(text)))
    return rules


def ignored(relative: str, rules: list[tuple[bool, str, re.Pattern]]) -> bool:
    """Whether a context path is left out of the build context (last matching rule wins)."""
    parts = relative.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    verdict = False
    for negate, _, regex in rules:
        if any(regex.match(c) for c in candidates):
            verdict = not negate
    return verdict


def build_context(root: Path) -> list[str]:
    """The files a ``docker build`` of ``root`` would send, as relative POSIX paths."""
    rules = read_dockerignore(root / ".dockerignore")
    exceptions = [text for negate, text, _ in rules if negate]

    def may_reinclude(folder: str) -> bool:
        return any(text.startswith(("*", "?")) or text == folder or text.startswith(folder + "/")
                   for text in exceptions)

    out = []
    for here, folders, files in os.walk(root):
        base = Path(here).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        folders[:] = sorted(f for f in folders if f != ".git" and not (
            ignored(prefix + f, rules) and not may_reinclude(prefix + f)))
        out.extend(prefix + f for f in sorted(files) if f != ".git" and not ignored(prefix + f, rules))
    return sorted(out)
