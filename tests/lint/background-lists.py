#!/usr/bin/env python3
"""Finds test bodies that put a whole AND-list in the background.

In sh, `a &&
b &` runs `a && b` in the background: `a` (often `: >log` or `rm -f
marker`) then races with what the test does next, such as waiting for a
line of that very log.  Write `a || return 1` on its own line instead.
Usage: background-lists.py FILE...; prints each place, exits 1 if any.
"""
import re
import sys


def logical_lines(text):
    buf, start = "", None
    for number, line in enumerate(text.split("\n"), 1):
        if start is None:
            start = number
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        yield start, buf + line
        buf, start = "", None


def main(paths):
    found = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            lines = list(logical_lines(f.read()))
        for k in range(1, len(lines)):
            number, line = lines[k]
            if not re.search(r"[^&]&\s*$", line):
                continue
            # `{ ...` over several lines, then `... } &`: what counts is
            # the line before the one that opened the group.
            start = k
            if re.search(r"\}\s*&\s*$", line) and "{" not in line:
                while start > 0 and not lines[start][1].strip().startswith(
                        "{"):
                    start -= 1
            if start == 0:
                continue
            prev = lines[start - 1][1]
            if re.search(r"(&&|\|\|)\s*$", prev):
                print(f"{path}:{number}: backgrounds the list above it: "
                      f"{line.strip()[:70]}")
                found = 1
    return found


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
