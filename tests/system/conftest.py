"""Shared fixtures of the system tests: where the built programs are."""
import os
import pathlib
import subprocess

import pytest

BUILD = pathlib.Path(os.environ.get("PEERCDN_BUILD_DIR", "build")).resolve()
SOURCE = pathlib.Path(os.environ.get("PEERCDN_SOURCE_DIR", ".")).resolve()


@pytest.fixture(scope="session")
def source_dir():
    return SOURCE


@pytest.fixture(scope="session")
def ctl():
    """Runs peercdnctl; returns the CompletedProcess (bounded by a timeout)."""
    binary = BUILD / "src" / "ctl" / "peercdnctl"
    assert binary.exists(), f"{binary} not built"

    def run(*args, check=None):
        proc = subprocess.run([str(binary), *map(str, args)], capture_output=True,
                              text=True, timeout=60)
        if check is not None:
            assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
        return proc

    return run
