"""What tells the ADBC PostgreSQL driver compiled from third_party/arrow-adbc from PyPI's wheel
of it: it links Debian's libpq (the wheel carries a copy of its own), and it is compiled with
optimization (the wheel's library keeps `__bswap_32`, which an optimizing compiler inlines, as a
function of its own)."""

import re
import subprocess
from pathlib import Path

SOURCES = Path(__file__).parents[1] / "third_party" / "arrow-adbc" / "c"


def sources_version() -> str:
    """The ADBC release the vendored sources are, from their CMake project."""
    cmake = (SOURCES / "cmake_modules" / "AdbcVersion.cmake").read_text()
    match = re.search(r'^set\(ADBC_VERSION "([^"]+)"\)$', cmake, re.MULTILINE)
    assert match, "AdbcVersion.cmake no longer sets ADBC_VERSION"
    return match.group(1)


def _readelf(*arguments: str) -> str:
    return subprocess.run(
        ["readelf", "--wide", *arguments], capture_output=True, text=True, check=True
    ).stdout


def not_our_build(library: Path) -> list[str]:
    """Why `library` is not the driver compiled from our sources; empty if it is."""
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", _readelf("--dynamic", library))
    functions = {
        line.split()[-1] for line in _readelf("--syms", library).splitlines() if " FUNC " in line
    }
    reasons = []
    if "libpq.so.5" not in needed:
        reasons.append(f"does not link libpq.so.5 (links {needed}): PyPI's wheel")
    if any("__bswap_32" in name for name in functions):
        reasons.append("__bswap_32 is a function of its own: compiled without optimization")
    return reasons
