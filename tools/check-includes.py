#!/usr/bin/env python3
"""The never-arrows of the source tree, checked on every #include "...":

  src/lib       includes nothing from src/node, src/client or src/ctl, and a
                layer only itself and the layers before it:
                base < model < naming < policy < proto
  src/client    includes nothing from src/node or src/ctl

Exits 1 and names every offending line."""
import pathlib
import re
import sys

LAYERS = ["base", "model", "naming", "policy", "proto"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def forbidden(path, target):
    parts = path.parts
    top = target.split("/")[0]
    if parts[0] == "lib":
        if top in ("node", "client", "ctl"):
            return "the library must not depend on src/%s" % top
        if top == "lib":
            here = LAYERS.index(parts[1])
            there_name = target.split("/")[1]
            if there_name not in LAYERS:
                return "lib/%s is no layer (%s)" % (there_name, ", ".join(LAYERS))
            if LAYERS.index(there_name) > here:
                return "layer %s may not include the later layer %s" % (parts[1], there_name)
    if parts[0] == "client" and top in ("node", "ctl"):
        return "the client library must not depend on src/%s" % top
    return None


def main():
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    bad = 0
    checked = 0
    for file in sorted(src.rglob("*.[ch]")):
        rel = file.relative_to(src)
        if rel.parts[0] == "lib" and len(rel.parts) < 3:
            print("%s: library sources live in a layer folder (%s)" % (file, ", ".join(LAYERS)))
            bad += 1
            continue
        for number, line in enumerate(file.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            checked += 1
            why = forbidden(rel, m.group(1))
            if why:
                print('%s:%d: #include "%s": %s' % (file, number, m.group(1), why))
                bad += 1
    if checked == 0:
        print("check-includes: no includes found under %s" % src)
        return 1
    print("check-includes: %d includes checked, %d forbidden" % (checked, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
