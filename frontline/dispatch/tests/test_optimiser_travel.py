"""Travel providers: the estimate is sane, and OSRM is read right (a fake on loopback)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from frontline.dispatch.optimiser import HaversineProvider, OsrmProvider, ProblemError


def test_haversine_is_symmetric_with_a_zero_diagonal_and_rounds_minutes_up():
    points = [(31.23, 121.47), (31.24, 121.47), (31.23, 121.47)]
    metres, minutes = HaversineProvider(road_factor=1.0, speed_kmh=60).matrix(points)
    assert (metres == metres.T).all() and metres[0, 0] == 0 and metres[0, 2] == 0
    assert 1100 < metres[0, 1] < 1125  # 0.01 degree of latitude is about 1.11 km
    assert minutes[0, 1] == 2  # 1.1 km at 60 km/h is 1.1 minutes: rounded up


class FakeOsrm(BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        FakeOsrm.paths.append(self.path)
        if "fail" in self.path:
            body = {"code": "InvalidQuery", "message": "bad coordinates"}
        else:
            body = {
                "code": "Ok",
                "distances": [[0, 1500.4], [1700, 0]],
                "durations": [[0, 121], [None, 0]],
            }
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm():
    server = HTTPServer(("127.0.0.1", 0), FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_osrm_table_is_asked_once_with_lon_lat_and_converted(osrm):
    provider = OsrmProvider(osrm + "/", timeout=5)
    metres, minutes = provider.matrix([(31.23, 121.47), (31.24, 121.48)])
    assert FakeOsrm.paths[-1] == (
        "/table/v1/driving/121.470000,31.230000;121.480000,31.240000?annotations=distance,duration"
    )
    assert metres.tolist() == [[0, 1501], [1700, 0]]
    assert minutes[0, 1] == 3  # 121 s rounds up to 3 minutes
    assert minutes[1, 0] == provider.unroutable  # OSRM found no route


def test_osrm_errors_are_problem_errors(osrm):
    with pytest.raises(ProblemError, match="InvalidQuery"):
        OsrmProvider(osrm + "/fail").matrix([(31.2, 121.4), (31.3, 121.5)])
    with pytest.raises(ProblemError, match="request failed"):
        OsrmProvider("http://127.0.0.1:9", timeout=1).matrix([(31.2, 121.4)])
    with pytest.raises(ProblemError, match="must be http"):
        OsrmProvider("file:///etc/passwd").matrix([(31.2, 121.4)])
