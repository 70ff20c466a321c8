"""Pytest plugin loaded before Django: selects the test profile."""

import os

os.environ.setdefault("FRONTLINE_ENV", "test")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontline.settings")
