"""collectstatic takes from the front-end packages exactly what the pages load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from frontline.core.staticfiles import VendorFinder

SOURCES = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"vendor/[a-z.-]+/[A-Za-z0-9_./-]+\.(?:js|css|woff2?|png)")


def collected() -> set[str]:
    return {
        f"{storage.prefix}/{path}" if storage.prefix else path
        for path, storage in VendorFinder().list(ignore_patterns=[])
    }


def referenced() -> set[str]:
    found = set()
    for path in SOURCES.rglob("*"):
        if path.suffix in {".html", ".py", ".js"} and "/tests/" not in str(path):
            found.update(REFERENCE.findall(path.read_text(errors="ignore")))
    return found


def test_every_vendor_file_the_code_loads_is_collected():
    if not Path("node_modules").exists():
        pytest.skip("node_modules is missing: run make install")
    assert referenced(), "the pattern should find the pages' vendor files"
    assert referenced() - collected() == set()


def test_the_rest_of_the_packages_dist_folders_is_left_out():
    if not Path("node_modules").exists():
        pytest.skip("node_modules is missing: run make install")
    files = collected()
    assert "vendor/echarts/echarts.min.js" in files
    assert not [
        f for f in files if f.startswith("vendor/echarts/") and f != "vendor/echarts/echarts.min.js"
    ]
    assert "vendor/leaflet/images/marker-icon.png" in files  # leaflet.css refers to it
    assert "vendor/bootstrap/css/bootstrap.min.css.map" in files  # named by the CSS
