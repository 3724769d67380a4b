"""The installable .ankiaddon: what it contains, and that it runs on its vendored libraries alone."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ankiaddon(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("dist") / "ankiconnect_live.ankiaddon"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_ankiaddon.py"), "--output", str(target)], check=True)
    return target


def test_archive_holds_the_addon_and_its_libraries_only(ankiaddon: Path) -> None:
    names = zipfile.ZipFile(ankiaddon).namelist()
    manifest = json.loads(zipfile.ZipFile(ankiaddon).read("manifest.json"))
    assert manifest["package"] == "ankiconnect_live"
    for required in ("__init__.py", "config.json", "config.md", "addon/__init__.py", "transport/server.py"):
        assert required in names
    assert "_vendor/websockets/asyncio/server.py" in names and "_vendor/h11/_connection.py" in names
    assert any(n.startswith("_vendor/websockets-") and "LICENSE" in n for n in names)
    assert any(n.startswith("_vendor/h11-") and "LICENSE" in n for n in names)
    assert not [n for n in names if n.startswith(("tests/", "bench/", "scripts/", ".")) or n.endswith((".so", ".pyc"))]


def test_extracted_addon_serves_with_its_vendored_libraries(ankiaddon: Path, tmp_path: Path) -> None:
    addons = tmp_path / "addons21"
    zipfile.ZipFile(ankiaddon).extractall(addons / "packaged_addon")
    code = f"""
import http.client, json, sys
sys.path.insert(0, {str(addons)!r})
import packaged_addon
import websockets, h11
assert websockets.__file__.startswith({str(addons)!r}), websockets.__file__
assert h11.__file__.startswith({str(addons)!r}), h11.__file__
from packaged_addon.app import App
from packaged_addon.headless import HeadlessRuntime
from packaged_addon.settings import load_settings
from pathlib import Path
runtime = HeadlessRuntime(load_settings({{"webBindPort": 0}}), Path({str(tmp_path / "c" / "collection.anki2")!r}))
runtime.open()
app = App(runtime, runtime.post)
app.start()
connection = http.client.HTTPConnection("127.0.0.1", app.server.port)
connection.request("POST", "/", body=json.dumps({{"action": "deckNames", "version": 6}}))
print(connection.getresponse().read().decode())
app.stop()
runtime.close()
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"result": ["Default"], "error": None}
