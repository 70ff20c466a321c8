"""Fuzz every operation of the committed OpenAPI schema as several roles.

schemathesis generates requests from docs/api/openapi.yaml (which ``make test``
proves equal to what /api/v1/schema/ serves) and sends them in-process to the WSGI
app, inside the test's transaction: writes roll back. Any 5xx, any response whose
status, content type or body the schema does not describe, is a failure.

One test per operation; each example draws its role with the request (hypothesis,
derandomized: the same requests every run). Real ids come from the seeded world half
the time. Runs on the PostgreSQL pass (``integration``); locally:
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/fl_fuzz .venv/bin/pytest tests/fuzz -n 2``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import ROLE_LOGINS
from tests.fuzz.ids import key_for

pytestmark = pytest.mark.integration

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"
# Examples per operation and generation mode (valid and invalid input): a few thousand
# requests in all, about a minute with two workers.
MAX_EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261122,
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "with-security-parameters": False,
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": False},
            "coverage": {"enabled": False},
            "stateful": {"enabled": False},
        },
    }
)

# A resumable upload's chunk (PATCH /api/v1/sync/uploads/{client_id}/) is raw bytes.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

schema = schemathesis.openapi.from_path(SCHEMA_PATH, config=CONFIG)
schema.app = get_wsgi_application()

_REAL_IDS: dict[str, list[str]] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, swap generated ids for real ones so requests reach real objects."""
    if not path_parameters:
        return st.just(path_parameters)
    path = context.operation.path
    choices = {}
    for name in path_parameters:
        key = key_for(path, name)
        if key and _REAL_IDS.get(key):
            choices[name] = st.sampled_from(_REAL_IDS[key])
    if not choices:
        return st.just(path_parameters)
    real = st.fixed_dictionaries(choices).map(lambda ids: {**path_parameters, **ids})
    return st.one_of(real, st.just(path_parameters))


@pytest.fixture
def world(fuzz_world, db):
    _REAL_IDS.update(fuzz_world.ids)
    return fuzz_world


ROLES = list(ROLE_LOGINS)


@schema.parametrize()
@schema.given(role=st.sampled_from(ROLES))
def test_api(case, role, world):
    """Each generated request goes out as one of the roles (drawn with the request)."""
    case.call_and_validate(headers={"Authorization": f"Bearer {world.tokens[role]}"}, checks=CHECKS)
