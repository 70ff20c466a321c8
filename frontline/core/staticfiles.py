"""Collect only the front-end packages' files the pages use, not their whole dist folders.

The packages come from the npm registry into node_modules (settings.STATICFILES_DIRS).
Their dist folders hold far more than we serve (ECharts alone ships 50 MB of builds,
sources and maps); collecting, hashing and compressing all of it made a production
``collectstatic`` take minutes. This finder lists, for each vendor prefix, the files the
templates load and what those files reference (fonts, images, source maps), so the
manifest storage finds every reference. Looking a file up (``find``) is unchanged.
"""

from __future__ import annotations

from fnmatch import fnmatch

from django.contrib.staticfiles.finders import FileSystemFinder

VENDOR_FILES: dict[str, tuple[str, ...]] = {
    "vendor/bootstrap": (
        "css/bootstrap.min.css",
        "css/bootstrap.min.css.map",
        "js/bootstrap.bundle.min.js",
        "js/bootstrap.bundle.min.js.map",
    ),
    "vendor/bootstrap-icons": ("bootstrap-icons.min.css", "fonts/*"),
    "vendor/htmx": ("htmx.min.js",),
    "vendor/leaflet": ("leaflet.css", "leaflet.js", "leaflet.js.map", "images/*"),
    "vendor/echarts": ("echarts.min.js",),
    "vendor/jsqr": ("jsQR.js",),
}


class VendorFinder(FileSystemFinder):
    def list(self, ignore_patterns):
        for path, storage in super().list(ignore_patterns):
            wanted = VENDOR_FILES.get(getattr(storage, "prefix", None) or "")
            if wanted is None or any(fnmatch(path, pattern) for pattern in wanted):
                yield path, storage
