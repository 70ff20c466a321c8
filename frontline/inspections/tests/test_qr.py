"""QR sheet PDF and single-checkpoint PNG."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from frontline.inspections import qr
from frontline.inspections.tests import factories as fi

pytestmark = pytest.mark.django_db


def test_route_sheet_has_one_label_per_active_checkpoint_and_pages(cast):
    route = fi.route(customer=cast.customer_a, points=14, items=())
    retired = route.checkpoints.get(code="P14")
    retired.is_active = False
    retired.save()
    pdf = qr.route_sheet_pdf(route, compress=False)
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 2
    for cp in route.checkpoints.filter(is_active=True):
        assert f"({cp.qr_value})".encode() in pdf
    assert f"({retired.qr_value})".encode() not in pdf


def test_hostile_names_are_drawn_as_text(cast):
    route = fi.route(customer=cast.customer_a, points=1, items=(), name="冷站 ) Tj (evil")
    cp = route.checkpoints.get()
    cp.name = "<script>alert(1)</script> )Tj"
    cp.save()
    pdf = qr.route_sheet_pdf(route)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")


def test_empty_route_still_prints(cast):
    route = fi.route(customer=cast.customer_a, points=0)
    assert qr.route_sheet_pdf(route).startswith(b"%PDF")


def test_checkpoint_png(cast):
    cp = fi.route(customer=cast.customer_a, points=1, items=()).checkpoints.get()
    png = qr.checkpoint_png(cp)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] == image.size[1] >= 150
