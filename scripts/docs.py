#!/usr/bin/python3
"""The documentation's own checks (Debian's /usr/bin/python3: PyYAML 6, stdlib otherwise).

  docs.py config --rfx PATH [--check]   write docs/config.md from configs/defaults.yaml and the
                                        binary's own range checks (--check: exit 1 with a diff
                                        when the committed page is not current)
  docs.py help --rfx PATH               rewrite the `rfx ... --help` blocks of docs/commands.md
                                        and docs/probes.md (check fails when one is stale)
  docs.py check --rfx PATH              every relative link in every tracked *.md resolves (file
                                        and #anchor); every rfx command line quoted in a code
                                        block of docs/ and README.md names a subcommand whose
                                        --help lists each of its --flags; the --help blocks are
                                        current

The ranges come from running the binary on values that fail its validation. No probe may train:
each one also sets a batch size no machine can hold (train.batch_size=2^31-1), which the memory
check refuses after every key's own check and before anything is allocated; a probe that still
runs is killed after PROBE_TIMEOUT_S seconds and reported as an error.
"""
import argparse
import concurrent.futures
import difflib
import functools
import os
import re
import signal
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULTS = os.path.join(ROOT, "configs", "defaults.yaml")
CONFIG_MD = os.path.join(ROOT, "docs", "config.md")
PROBE_TIMEOUT_S = 60
GUARD = ["--set", "train.batch_size=2147483647"]  # refused by the memory check: nothing trains
# A sweep that checks every sweep.* key (adaptive mode checks sweep.adaptive.* too).
SWEEP_GUARD = ["--set", "sweep.axes={net.depth: [2], dataset.distance: [7, 9]}", "--set",
               "sweep.mode=adaptive"]


# ---------------------------------------------------------------- defaults.yaml with comments
def read_defaults(path):
    """[(key, value, comment)] in file order; comment lines below a key continue its comment."""
    values = yaml.safe_load(open(path, encoding="utf-8"))
    rows, stack, last = [], [], None
    for line in open(path, encoding="utf-8"):
        text = line.rstrip("\n")
        if not text.strip():
            last = None
            continue
        indent = len(text) - len(text.lstrip(" "))
        body = text.strip()
        if body.startswith("#"):
            if last is not None and indent > last[1]:
                rows[last[0]][2].append(body[1:].strip())
            continue
        m = re.match(r"([A-Za-z_][\w]*):\s*(.*)$", body)
        if not m:
            continue
        name, rest = m.group(1), m.group(2)
        comment = ""
        if "#" in rest:
            rest, comment = rest.split("#", 1)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key = ".".join([s[1] for s in stack] + [name])
        stack.append((indent, name))
        node = values
        for part in key.split("."):
            node = node[part]
        is_section = isinstance(node, dict) and rest.strip() == ""
        rows.append([key, node, [comment.strip()] if comment.strip() else [], is_section])
        last = (len(rows) - 1, indent)
    return rows


def type_name(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "map"


def show(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return str(value)


# ---------------------------------------------------------------- probing the binary
def run_probe(rfx, key, value):
    """rfx's error message for key=value (None when the value passed the key's own checks)."""
    with tempfile.TemporaryDirectory(prefix="rfx-docs-") as tmp:
        out = os.path.join(tmp, "out")
        if key.startswith("sweep."):
            cmd = [rfx, "sweep", "--out", out, "--dry-run"] + GUARD + SWEEP_GUARD
        else:
            cmd = [rfx, "train", "--out", out] + GUARD
        cmd += ["--set", f"{key}={value}"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        try:
            _, err = proc.communicate(timeout=PROBE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise SystemExit(f"docs.py: probe {key}={value} did not fail fast: {' '.join(cmd)}")
        if os.path.exists(os.path.join(out, "checkpoint.pt")):
            raise SystemExit(f"docs.py: probe {key}={value} trained: {' '.join(cmd)}")
    first = err.strip().splitlines()[0] if err.strip() else ""
    m = re.search(r"config key '([^']+)'", first)
    if proc.returncode != 2 or not m:
        raise SystemExit(f"docs.py: probe {key}={value}: unexpected exit {proc.returncode}: {first}")
    if m.group(1) != key or "needs about" in first:
        return None  # accepted; the guard (or the memory check) stopped it
    return first


def normalise(text):
    """Machine-independent wording of an 'allowed' text."""
    # train.threads, dataset.threads: the upper bound is 4x the CPUs this process may use.
    text = re.sub(r"to \d+ \(4x the CPUs this process may use\)",
                  "to 4× the CPUs this process may use", text)
    text = re.sub(r"0\.\.\d+ \(0 = all cores; at most 4 × the \d+ CPUs this process may use\)",
                  "0 (all cores) to 4× the CPUs this process may use", text)
    # dataset.distance: the same range with two reasons (touching the letter, leaving the canvas)
    return re.sub(r" \((the diaeresis|the dot) would [^)]*\)$", "", text)


def allowed_text(message):
    m = re.search(r"is not (one of the sweep axes)", message)
    if m:
        return m.group(1)
    for pattern in (r"is not allowed; allowed: (.*)$", r"is not a device; allowed: (.*)$",
                    r"is out of range; allowed (.*)$", r"; allowed:? (.*)$", r"must be (.*)$"):
        m = re.search(pattern, message)
        if m:
            return normalise(m.group(1).strip())
    return None


def probe_range(rfx, key, value):
    kind = type_name(value)
    if kind in ("int", "float"):
        trials = ["-1", "2147483647" if kind == "int" else "1e30"]
        if kind == "float":
            trials = ["-1", "1e30"]
    elif kind == "string":
        trials = ["rfx-docs-bogus"]
    else:
        return ""
    texts = []
    for trial in trials:
        message = run_probe(rfx, key, trial)
        if message is None:
            continue
        text = allowed_text(message)
        if text and text not in texts:
            texts.append(text)
    return "; ".join(texts)


# ---------------------------------------------------------------- docs/config.md
PREAMBLE = """# Configuration keys

<!-- Generated by `/usr/bin/python3 scripts/docs.py config --rfx build/rfx` from
configs/defaults.yaml and the binary's own checks; do not edit by hand. -->

Every command that takes a config starts from the embedded defaults (`configs/defaults.yaml`:
every key, at the paper's values, with comments), merges each `--config FILE` in order (e.g. a
profile, then an experiment), then each `--set key=value` (the value is read as YAML:
`--set net.depth=8`, `--set sweep.axes.net.depth=[2,4,8]`). How configs are read, the errors,
the memory check and the address-space limit: [commands.md](commands.md#configuration).

Columns: the key, its type, its default, what rfx allows (the text of the binary's own error
for a value outside it, taken by running `rfx train` or `rfx sweep --dry-run` with such a
value; empty where the key has no range of its own: lists, maps, booleans) and its meaning (the
comment in configs/defaults.yaml). The bound of `train.threads` and `dataset.threads` depends
on the machine; it is written as "4× the CPUs this process may use", which is how rfx computes
it (the affinity mask: a Slurm allocation, taskset). Keys bounded only by the memory a training
needs (the batch size, say) are refused by the memory check, not by a range of their own.
"""


def render_config(rfx):
    rows = read_defaults(DEFAULTS)
    # The probes are independent processes: run them on every core (each loads LibTorch).
    probed = [r for r in rows if not r[3] and "." in r[0] and type_name(r[1]) not in ("list", "map")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        ranges = dict(zip([r[0] for r in probed],
                          pool.map(lambda r: probe_range(rfx, r[0], r[1]), probed)))
    lines = [PREAMBLE]
    section = None
    for key, value, comment, is_section in rows:
        top = key.split(".")[0]
        if top != section:
            section = top
            lines.append(f"\n## {section}\n")
            lines.append("| key | type | default | allowed | meaning |")
            lines.append("| --- | --- | --- | --- | --- |")
        if is_section:
            if comment:
                lines.append(f"| `{key}.*` | section | | | {' '.join(comment)} |")
            continue
        if "." not in key:
            continue
        allowed = ranges.get(key, "")
        meaning = " ".join(comment).replace("|", "\\|")
        cells = [f"`{key}`", type_name(value), f"`{show(value)}`", allowed.replace("|", "\\|"),
                 meaning]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines).rstrip() + "\n"


def cmd_config(args):
    text = render_config(args.rfx)
    if args.check:
        old = open(CONFIG_MD, encoding="utf-8").read() if os.path.exists(CONFIG_MD) else ""
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), text.splitlines(True), "docs/config.md (committed)",
                "docs/config.md (generated)"))
            print("docs.py: docs/config.md is not current: run "
                  "/usr/bin/python3 scripts/docs.py config --rfx PATH", file=sys.stderr)
            return 1
        return 0
    os.makedirs(os.path.dirname(CONFIG_MD), exist_ok=True)
    with open(CONFIG_MD, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


# ---------------------------------------------------------------- links
def tracked_markdown():
    """The repository's *.md files (git's list; without git, every *.md outside build folders)."""
    proc = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "*.md"], cwd=ROOT,
                          capture_output=True, text=True)
    if proc.returncode == 0:
        return sorted(p for p in set(proc.stdout.split()) if os.path.exists(os.path.join(ROOT, p)))
    found = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith((".", "build", "out", "gpu-bundle"))]
        found += [os.path.relpath(os.path.join(top, f), ROOT) for f in files if f.endswith(".md")]
    return sorted(found)


def slug(heading):
    """GitHub's anchor of a heading."""
    text = re.sub(r"<[^>]+>", "", heading.strip()).lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def prose_lines(path):
    """(line number, text, in_code) for each line; fenced and indented blocks are code."""
    result, fence, prev = [], None, "blank"
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        stripped = line.lstrip()
        if fence:
            result.append((n, line, True))
            if stripped.startswith(fence):
                fence = None
            prev = "blank"
            continue
        if stripped.startswith("```") or stripped.startswith("~~~"):
            fence = stripped[:3]
            result.append((n, line, True))
            continue
        # An indented code block starts after a blank line or a heading (it cannot interrupt a
        # paragraph) and goes on while lines stay indented.
        if line.startswith("    ") and prev in ("blank", "heading", "code"):
            result.append((n, line, True))
            prev = "code"
            continue
        result.append((n, line, False))
        if not line.strip():
            prev = "blank" if prev != "code" else "code-blank"
            if prev == "code-blank":
                prev = "blank"
        elif stripped.startswith("#"):
            prev = "heading"
        else:
            prev = "text"
    return result


def anchors(path):
    seen, out = {}, set()
    for _, line, code in prose_lines(path):
        m = re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if code or not m:
            continue
        base = slug(m.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    for m in re.finditer(r'<a (?:name|id)="([^"]+)"', open(path, encoding="utf-8").read()):
        out.add(m.group(1))
    return out


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def check_links(failures):
    cache = {}
    for rel in tracked_markdown():
        path = os.path.join(ROOT, rel)
        for n, line, code in prose_lines(path):
            if code:
                continue
            line = re.sub(r"`[^`]*`", "", line)
            for m in LINK.finditer(line):
                target = m.group(1)
                if re.match(r"[a-z][a-z0-9+.-]*:", target):
                    continue  # http:, https:, mailto:
                file_part, _, anchor = target.partition("#")
                dest = path if not file_part else os.path.normpath(
                    os.path.join(os.path.dirname(path), file_part))
                if not os.path.exists(dest):
                    failures.append(f"{rel}:{n}: link {target}: no file {os.path.relpath(dest, ROOT)}")
                    continue
                if anchor:
                    if not dest.endswith(".md"):
                        failures.append(f"{rel}:{n}: link {target}: an anchor into a non-Markdown file")
                        continue
                    if dest not in cache:
                        cache[dest] = anchors(dest)
                    if anchor not in cache[dest]:
                        failures.append(f"{rel}:{n}: link {target}: no heading #{anchor} in "
                                        f"{os.path.relpath(dest, ROOT)}")


# ---------------------------------------------------------------- command lines
COMMAND = re.compile(r"^\s*(?:\./)?(?:build/)?rfx\s+(.*)$")
GROUPS = ("probe", "bench", "dataset")


@functools.lru_cache(maxsize=None)
def help_text(rfx, words):
    """`rfx WORDS --help`'s output (words: a tuple), or None where rfx refuses it; each asked once."""
    proc = subprocess.run([rfx] + list(words) + ["--help"], capture_output=True, text=True,
                          timeout=60)
    return proc.stdout if proc.returncode == 0 else None


def help_flags(rfx, words):
    text = help_text(rfx, tuple(words))
    if text is None:
        return None
    return set(re.findall(r"(--[A-Za-z][\w-]*)", text)) | {"--help"}


def quoted_commands(path):
    """(line, command text) of each rfx command in a code block; continuation lines joined."""
    lines = prose_lines(path)
    out, i = [], 0
    while i < len(lines):
        n, text, code = lines[i]
        m = COMMAND.match(text) if code else None
        i += 1
        if not m:
            continue
        body = m.group(1)
        while body.rstrip().endswith("\\") and i < len(lines) and lines[i][2]:
            body = body.rstrip()[:-1] + " " + lines[i][1].strip()
            i += 1
        while i < len(lines) and lines[i][2] and re.match(r"\s+[\[(-]", lines[i][1]):
            body += " " + lines[i][1].strip()  # a usage synopsis wrapped onto indented lines
            i += 1
        out.append((n, body))
    return out


def check_commands(rfx, failures):
    files = [os.path.join(ROOT, "README.md")]
    docs = os.path.join(ROOT, "docs")
    if os.path.isdir(docs):
        files += [os.path.join(docs, f) for f in sorted(os.listdir(docs)) if f.endswith(".md")]
    top = help_flags(rfx, [])
    subcommands = set(re.findall(r"^\s{2}([a-z]+)\s", help_text(rfx, ()) or "", re.M))
    for path in files:
        rel = os.path.relpath(path, ROOT)
        for n, body in quoted_commands(path):
            body = re.split(r"\s(?:&&|;|\|\|)\s|\s#", body)[0]
            words = body.split()
            if not words:
                continue
            if words[0].startswith("--"):
                bad = [w for w in words if w.startswith("--") and w.split("=")[0] not in top]
                if bad:
                    failures.append(f"{rel}:{n}: rfx: unknown flag(s) {', '.join(bad)}")
                continue
            subs = [words[0]]
            rest = words[1:]
            if words[0] not in subcommands:
                failures.append(f"{rel}:{n}: rfx {words[0]}: no such subcommand")
                continue
            if words[0] in GROUPS and rest and re.match(r"^[a-z|]+$", rest[0]):
                variants = [[words[0], s] for s in rest[0].split("|")]
                rest = rest[1:]
            else:
                variants = [subs]
            if "--" in rest:
                rest = rest[:rest.index("--")]
            flags = [f for w in rest for f in re.findall(r"(?<![\w-])(--[A-Za-z][\w-]*)", w)]
            for words_ in variants:
                known = help_flags(rfx, words_)
                if known is None:
                    failures.append(f"{rel}:{n}: rfx {' '.join(words_)}: no such subcommand")
                    continue
                bad = [f for f in flags if f not in known]
                if bad:
                    failures.append(f"{rel}:{n}: rfx {' '.join(words_)}: not in its --help: "
                                    f"{', '.join(sorted(set(bad)))}")



# ---------------------------------------------------------------- --help blocks in the pages
HELP_BLOCK = re.compile(r"(<!-- rfx-help: ([a-z ]+) -->\n)(.*?)(<!-- /rfx-help -->)", re.S)
HELP_PAGES = ("docs/commands.md", "docs/probes.md")


def render_help(rfx, text):
    def fill(m):
        out = help_text(rfx, tuple(m.group(2).split()))
        if out is None:
            raise RuntimeError(f"rfx {m.group(2)} --help failed")
        return m.group(1) + "```text\n" + out.rstrip() + "\n```\n" + m.group(4)
    return HELP_BLOCK.sub(fill, text)


def cmd_help(args):
    for rel in HELP_PAGES:
        path = os.path.join(ROOT, rel)
        old = open(path, encoding="utf-8").read()
        new = render_help(args.rfx, old)
        if new != old:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
    return 0


def check_help(rfx, failures):
    for rel in HELP_PAGES:
        path = os.path.join(ROOT, rel)
        old = open(path, encoding="utf-8").read()
        if render_help(rfx, old) != old:
            failures.append(f"{rel}: a --help block is not the binary's: run /usr/bin/python3 "
                            "scripts/docs.py help --rfx PATH")


def cmd_check(args):
    failures = []
    check_help(args.rfx, failures)
    check_links(failures)
    check_commands(args.rfx, failures)
    for f in failures:
        print(f)
    if failures:
        print(f"docs.py check: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("config", help="write (or --check) docs/config.md")
    p.add_argument("--rfx", required=True, help="the rfx executable whose checks give the ranges")
    p.add_argument("--check", action="store_true", help="exit 1 with a diff if not current")
    p.set_defaults(func=cmd_config)
    p = sub.add_parser("help", help="rewrite the --help blocks of docs/commands.md, docs/probes.md")
    p.add_argument("--rfx", required=True)
    p.set_defaults(func=cmd_help)
    p = sub.add_parser("check", help="links in the Markdown, rfx command lines in docs/ and README")
    p.add_argument("--rfx", required=True)
    p.set_defaults(func=cmd_check)
    args = parser.parse_args()
    args.rfx = os.path.abspath(args.rfx)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
