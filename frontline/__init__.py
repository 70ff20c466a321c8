"""Frontline: an open-source service operations platform."""

from frontline.celery import app as celery_app

__all__ = ["celery_app"]
