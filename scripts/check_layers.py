#!/usr/bin/env python3
"""Checks that the source tree keeps the architecture CMakeLists.txt declares (stdlib only).

The components and their order come from one place: the rfx_component(NAME DIR dir ... DEPS ...)
calls of CMakeLists.txt (a DEPS entry rfx_X names component X; other entries are external
libraries). Two rules, each violation printed as file:line: message, exit status 1:

1. A file of a component (its DIR's *.h and *.cpp, the folder CMake globs) includes only headers
   of its own component and of the components among its transitive DEPS. src/cli (the
   executable) may include every component; no component includes a header of src/cli.
2. Every .cpp under src/rfx implements the header of its own name (foo.cpp beside foo.h). In
   src/cli, main.cpp, common.cpp (the helpers commands.h declares) and the cmd_*.cpp files (one
   subcommand each, registered through commands.h) are exempt.

Usage: scripts/check_layers.py [--root DIR] (default: the repository holding this script).
"""
import argparse
import os
import re
import sys

COMPONENT_RE = re.compile(r"^\s*rfx_component\s*\(([^)]*)\)", re.M | re.S)
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
CLI_DIR = "src/cli"
CLI_EXEMPT = re.compile(r"^(main|common|cmd_\w+)\.cpp$")
# Where CMake's include path looks for "..." headers (cmake/rfx.cmake: src/ and the root).
INCLUDE_ROOTS = ["src", "."]


def parse_components(root):
    """{name: (dir, [dep names], line)} in CMakeLists.txt's order."""
    path = os.path.join(root, "CMakeLists.txt")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # Comments out (keep the line count for positions).
    text = re.sub(r"#[^\n]*", "", text)
    components = {}
    for m in COMPONENT_RE.finditer(text):
        words = m.group(1).split()
        name, rest = words[0], words[1:]
        line = text.count("\n", 0, m.start()) + 1
        if "DIR" not in rest:
            sys.exit(f"CMakeLists.txt:{line}: rfx_component({name}) without DIR")
        directory = rest[rest.index("DIR") + 1]
        deps = []
        if "DEPS" in rest:
            for w in rest[rest.index("DEPS") + 1:]:
                if w in ("TORCH", "DIR"):
                    break
                if w.startswith("rfx_"):
                    deps.append(w[len("rfx_"):])
        for d in deps:
            if d not in components:
                sys.exit(f"CMakeLists.txt:{line}: rfx_component({name}) depends on rfx_{d}, "
                         "which is not a component declared before it")
        components[name] = (os.path.normpath(directory), deps, line)
    if not components:
        sys.exit("CMakeLists.txt: no rfx_component(...) found")
    return components


def closure(components):
    """{name: set of components it may include: itself and its transitive DEPS}."""
    allowed = {}
    for name, (_, deps, _) in components.items():  # declared in dependency order
        s = {name}
        for d in deps:
            s |= allowed[d]
        allowed[name] = s
    return allowed


def owner_of(header, root, dirs):
    """The component (or "cli") whose folder holds an included header, or None (system,
    generated or third-party headers)."""
    for base in INCLUDE_ROOTS:
        rel = os.path.normpath(os.path.join(base, header))
        if not os.path.isfile(os.path.join(root, rel)):
            continue
        folder = os.path.dirname(rel)
        for name, d in dirs.items():
            if folder == d:
                return name
        return None
    return None


def source_files(root, directory):
    full = os.path.join(root, directory)
    if not os.path.isdir(full):
        return []
    return sorted(f for f in os.listdir(full) if f.endswith((".h", ".cpp")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))))
    root = parser.parse_args().root

    components = parse_components(root)
    allowed = closure(components)
    dirs = {name: d for name, (d, _, _) in components.items()}
    dirs["cli"] = CLI_DIR
    errors = []

    # Rule 1: includes follow the DEPS.
    for name, d in dirs.items():
        for f in source_files(root, d):
            rel = os.path.join(d, f)
            with open(os.path.join(root, rel), encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    m = INCLUDE_RE.match(line)
                    if not m:
                        continue
                    other = owner_of(m.group(1), root, dirs)
                    if other is None or other == name or name == "cli":
                        continue
                    if other == "cli" or other not in allowed[name]:
                        deps = sorted(allowed[name] - {name})
                        errors.append(
                            f"{rel}:{n}: component {name} includes \"{m.group(1)}\" of "
                            f"component {other}, which is not among its DEPS "
                            f"({', '.join(deps) or 'none'}; CMakeLists.txt rfx_component)")

    # Rule 2: each .cpp implements the header of its own name.
    checked = set()
    for base in ["src/rfx"] + [d for d in dirs.values() if not d.startswith("src/")]:
        for folder, _, files in os.walk(os.path.join(root, base)):
            for f in sorted(files):
                if not f.endswith(".cpp"):
                    continue
                rel = os.path.relpath(os.path.join(folder, f), root)
                if rel in checked:
                    continue
                checked.add(rel)
                if not os.path.isfile(os.path.join(folder, f[:-len(".cpp")] + ".h")):
                    errors.append(f"{rel}:1: no header of its own name ({f[:-4]}.h): a .cpp "
                                  "implements the declarations of the header beside it")
    for f in source_files(root, CLI_DIR):
        if f.endswith(".cpp") and not CLI_EXEMPT.match(f):
            if not os.path.isfile(os.path.join(root, CLI_DIR, f[:-4] + ".h")):
                errors.append(f"{CLI_DIR}/{f}:1: no header of its own name ({f[:-4]}.h)")

    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check_layers: {len(errors)} violation(s) of the components' layering "
              "(docs/design.md)", file=sys.stderr)
        return 1
    print(f"check_layers: {len(components)} components "
          f"({' < '.join(components)}): includes follow DEPS, each .cpp has its header")
    return 0


if __name__ == "__main__":
    sys.exit(main())
