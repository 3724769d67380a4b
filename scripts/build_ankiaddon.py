"""Build the installable add-on, ``dist/ankiconnect_live.ankiaddon`` (``make ankiaddon``).

Anki cannot install Python packages, so the two pure-Python libraries the server needs, websockets and h11,
are copied into ``_vendor/`` from this environment (the pinned versions), without websockets' optional C
speed-up, so one file works on every operating system and CPU.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_PARTS = ("actions", "addon", "events", "transport")
TOP_FILES = ("manifest.json", "config.json", "config.md")
PAGES = ("*.html", "*.js", "*.css")
"""The overlay and dashboard (``pages/``), served by the add-on too."""
VENDORED = ("websockets", "h11")
SKIP_SUFFIXES = (".so", ".c", ".pyd", ".pyc")


def package_files() -> list[Path]:
    files = [ROOT / name for name in TOP_FILES]
    files += sorted(ROOT.glob("*.py"))
    for part in PACKAGE_PARTS:
        files += sorted((ROOT / part).glob("*.py"))
    for pattern in PAGES:
        files += sorted((ROOT / "pages").glob(pattern))
    return files


def vendored_files(name: str) -> list[tuple[Path, str]]:
    """(source, path inside the archive) for one installed library and its licence."""
    distribution = importlib.metadata.distribution(name)
    out: list[tuple[Path, str]] = []
    for entry in distribution.files or []:
        source = Path(str(distribution.locate_file(entry)))
        parts = entry.parts
        if parts[0] == name and "__pycache__" not in parts and not entry.name.endswith(SKIP_SUFFIXES):
            out.append((source, f"_vendor/{entry.as_posix()}"))
        elif parts[0].endswith(".dist-info") and entry.name.upper().startswith(("LICENSE", "COPYING")):
            out.append((source, f"_vendor/{name}-{entry.name}"))
    return out


def build(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in package_files():
            archive.write(path, path.relative_to(ROOT).as_posix())
        for name in VENDORED:
            for source, inside in vendored_files(name):
                archive.write(source, inside)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=ROOT / "dist" / "ankiconnect_live.ankiaddon")
    print(build(parser.parse_args().output))


if __name__ == "__main__":
    main()
