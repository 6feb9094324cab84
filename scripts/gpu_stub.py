#!/usr/bin/env python3
"""Writes the C source and version script of a stand-in for a shared library (scripts/
gpu_check.sh bundle): it defines exactly the symbols that `users` import from `real`, with
real's symbol versions, so that a loader binding everything at load time (BIND_NOW, as Debian
builds OpenCV) finds them; a function, if ever called, prints its name and aborts.

  gpu_stub.py REAL OUT_DIR USER [USER ...]    writes OUT_DIR/stub.c and OUT_DIR/stub.map
"""
import os
import re
import subprocess
import sys

# objdump -T: address, 7 flag columns, section, size, [version], name
LINE = re.compile(r"^[0-9a-f]+ (.{7}) (\S+)\s+([0-9a-f]+)\s+(?:(\(?[\w.@]+\)?)\s+)?(\S+)$")


def dynamic_symbols(path):
    out = subprocess.run(["objdump", "-T", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        m = LINE.match(line.strip())
        if m:
            flags, section, size, version, name = m.groups()
            yield name, section, int(size, 16), (version or "").strip("()"), "O" in flags


def main():
    real, out_dir, users = sys.argv[1], sys.argv[2], sys.argv[3:]
    wanted = set()
    for user in users:
        for name, section, _, _, _ in dynamic_symbols(user):
            if section == "*UND*":
                wanted.add(name)
    c = ["#include <stdio.h>", "#include <stdlib.h>",
         "static void rfx_stub_fail(const char* name) {",
         '  fprintf(stderr, "rfx: %s of %s is not in this bundle\\n", name, "'
         + os.path.basename(real) + '");',
         "  abort();", "}"]
    versions = {}
    seen = set()
    for i, (name, section, size, version, is_object) in enumerate(dynamic_symbols(real)):
        if section == "*UND*" or name not in wanted or name in seen:
            continue
        seen.add(name)
        if is_object:
            c.append('char rfx_o%d[%d] __asm__("%s") = {0};' % (i, max(size, 1), name))
        else:
            c.append('void rfx_f%d(void) __asm__("%s");' % (i, name))
            c.append('void rfx_f%d(void) { rfx_stub_fail("%s"); }' % (i, name))
        if version and version != "Base":
            versions.setdefault(version, []).append(name)
    with open(os.path.join(out_dir, "stub.c"), "w") as f:
        f.write("\n".join(c) + "\n")
    with open(os.path.join(out_dir, "stub.map"), "w") as f:
        for version, names in sorted(versions.items()):
            f.write("%s { global: %s; };\n" % (version, "; ".join(names)))


if __name__ == "__main__":
    main()
