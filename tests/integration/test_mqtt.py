"""Publish and subscribe through the MQTT broker named by MQTT_URL."""

from __future__ import annotations

import queue
import uuid
from urllib.parse import urlsplit

import pytest

from tests.integration.conftest import require_url

pytestmark = pytest.mark.integration


def _client(parts, client_id: str):
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    if parts.scheme == "mqtts":
        client.tls_set()
    return client


def test_publish_subscribe_round_trip():
    url = require_url("MQTT_URL", "mqtt://127.0.0.1:1883")
    parts = urlsplit(url)
    host, port = (
        parts.hostname or "127.0.0.1",
        parts.port or (8883 if parts.scheme == "mqtts" else 1883),
    )
    topic = f"frontline/test/{uuid.uuid4().hex}"
    payload = '{"asset": "冷水机组", "temp": 7.2}'.encode()
    subscribed: queue.Queue = queue.Queue()
    received: queue.Queue = queue.Queue()

    sub = _client(parts, f"fl-sub-{uuid.uuid4().hex[:8]}")
    sub.on_connect = lambda c, userdata, flags, rc, props: c.subscribe(topic, qos=1)
    sub.on_subscribe = lambda c, userdata, mid, rcs, props: subscribed.put(rcs)
    sub.on_message = lambda c, userdata, msg: received.put((msg.topic, msg.payload))
    try:
        sub.connect(host, port, keepalive=10)
    except OSError as exc:
        pytest.fail(f"MQTT_URL={url} is set but the broker does not answer: {exc}", pytrace=False)
    sub.loop_start()
    pub = _client(parts, f"fl-pub-{uuid.uuid4().hex[:8]}")
    try:
        subscribed.get(timeout=10)
        pub.connect(host, port, keepalive=10)
        pub.loop_start()
        pub.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

        assert received.get(timeout=10) == (topic, payload)
    finally:
        pub.loop_stop()
        pub.disconnect()
        sub.loop_stop()
        sub.disconnect()
