#!/usr/bin/python3
"""Fails unless `meson test` ran every test the tree defines, and every one
passed: meson exits 0 on "No tests defined", on a build dir configured with
tests=false and on skipped tests (exit 77), so its exit status alone proves
nothing.

    tools/check-tests-ran.py BUILD_DIR [SOURCE_DIR]

Three counts must agree:
  tree     what the source tree defines: every tests/unit/*/test_*.c is a
           test of that name, every tests/fuzz/fuzz_*.c a NAME_replay test,
           tests/system/ the `system` test, and every test('literal', ...)
           in a meson.build file (client_exports, include_check, ...);
  defined  what the build dir defines (`meson introspect --tests`), which
           must hold the whole tree list;
  ran      the results in BUILD_DIR/meson-logs/testlog.json, one OK (or
           EXPECTEDFAIL) per defined test, nothing skipped.
It also reads the system test's stdout for the line the pytest conftest
prints ("pytest: collected N, ran N: ...") and fails when it is missing or
says fewer tests ran than were collected. Prints one summary line.
"""
import json
import pathlib
import re
import subprocess
import sys


def fail(msg):
    sys.exit(f"check-tests-ran: FAIL: {msg}")


def tree_tests(src):
    names = set()
    for f in (src / "tests" / "unit").glob("*/test_*.c"):
        names.add(f.stem)
    for f in (src / "tests" / "fuzz").glob("fuzz_*.c"):
        names.add(f.stem + "_replay")
    if list((src / "tests" / "system").glob("test_*.py")):
        names.add("system")
    for mb in src.rglob("meson.build"):
        if any(part.startswith("build") for part in mb.relative_to(src).parts[:-1]):
            continue
        names.update(re.findall(r"\btest\(\s*'([^']+)'", mb.read_text()))
    return names


def main():
    if len(sys.argv) not in (2, 3):
        fail("usage: check-tests-ran.py BUILD_DIR [SOURCE_DIR]")
    build = pathlib.Path(sys.argv[1])
    src = pathlib.Path(sys.argv[2] if len(sys.argv) == 3 else ".")
    tree = tree_tests(src)
    if not tree:
        fail(f"no tests found in the tree at {src}")
    intro = subprocess.run(["meson", "introspect", "--tests", str(build)], check=True,
                           capture_output=True, text=True).stdout
    defined = [t["name"] for t in json.loads(intro)]
    missing = sorted(tree - set(defined))
    if missing:
        fail(f"{build} does not define {len(missing)} test(s) of the tree: {', '.join(missing)}"
             " (configured with -Dtests=false? nm or another program not found?)")
    if len(set(defined)) != len(defined):
        fail(f"{build} defines duplicate test names")

    log = build / "meson-logs" / "testlog.json"
    if not log.exists():
        fail(f"{log} not found: meson test did not run")
    results, stdout = {}, {}
    for line in log.read_text().splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        name = entry["name"].rsplit(" / ", 1)[-1]
        results[name] = entry["result"]
        stdout[name] = entry.get("stdout") or ""
    not_run = sorted(set(defined) - set(results))
    if not_run:
        fail(f"{len(not_run)} defined test(s) did not run: {', '.join(not_run)}")
    bad = sorted(f"{n} ({r})" for n, r in results.items() if r not in ("OK", "EXPECTEDFAIL"))
    if bad:
        fail(f"not passed: {', '.join(bad)}")

    if "system" in defined:
        m = re.search(r"^pytest: collected (\d+), ran (\d+)\b.*$", stdout["system"], re.M)
        if not m:
            fail("the system test printed no 'pytest: collected N, ran N' line")
        collected, ran = int(m.group(1)), int(m.group(2))
        if collected == 0 or ran < collected:
            fail(f"system: {m.group(0)}")
        system = f"; {m.group(0)}"
    else:
        system = ""
    print(f"check-tests-ran: {build}: the tree defines {len(tree)} tests, the build {len(defined)},"
          f" {len(results)} ran, all passed{system}")


if __name__ == "__main__":
    main()
