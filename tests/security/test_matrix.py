"""The security matrix: every URL × every actor × own and other organisation.

Generated from ``django.urls.get_resolver()`` (``routes.py``) against the expectations in
``matrix.py``: a URL without an entry, or an entry without a URL, fails. For each URL:

* GET by every actor on the side-``a`` object, and by customer A's people, customer B's
  admin and the outlet's people on the side-``b`` object → the expected status (the
  anonymous are sent to the login page, nowhere else); a 200
  answered to someone of the other side must not contain the other side's marker text
  (lists, searches, reports and maps included);
* each unsafe method the route answers, by the anonymous, by customer B's admin on
  customer A's object, by one more refused actor (picked by the route's name, so every
  run tries the same one) and by customer A's user and the outlet's engineer on customer
  B's object → refused, and nothing changed (no row saved or deleted, the target row as
  before). Requests that pass are never sent: the world stays as built.
"""

from __future__ import annotations

import zlib

import pytest

from tests.security.harness import Harness
from tests.security.kinds import param_kind, path_values
from tests.security.matrix import ACTORS, MATRIX
from tests.security.routes import UNSAFE, all_routes
from tests.security.world import MARK_A, MARK_B

ROUTES, SKIPPED = all_routes()
BY_NAME = {r.name: r for r in ROUTES}
IN_MATRIX = sorted(set(BY_NAME) & set(MATRIX))

# Who is checked on customer B's object (for staff both sides are the same).
SIDE_B_ACTORS = (
    "customer_a_user",
    "customer_a_admin",
    "customer_b_admin",
    "partner_engineer",
    "partner_admin",
)
# Who must never read the marker of each side.
MAY_NOT_READ = {
    MARK_A: ("anonymous", "customer_b_admin", "supplier_contact", "outsider"),
    MARK_B: ("anonymous", "customer_a_user", "customer_a_admin", "partner_engineer", "partner_admin",
             "supplier_contact", "outsider"),
}  # fmt: skip
# Objects that belong to no customer: side b is the same object, nothing to compare.
SHARED_KINDS = {
    "asset_model", "severity_level", "calendar", "dispatch_rule", "point_rule",
    "quality_scheme", "sop", "plan", "verb", "reset_uid", "reset_token", "upload_id",
}  # fmt: skip
# Writes on customer B's object that are not refused with 401/403/404/405, and why that
# reveals nothing about it.
SIDE_B_EXEMPT = {
    "api-v1:public-survey": "the token is the credential: a malformed answer is a 400 for anyone",
    "api-v1:redemption-reject": "the body is checked first: an empty one is a 400 whatever the id",
    "api-v1:offer-claim": "an unknown offer and one not made to you are the same 409",
    "field:mobile-claim": "an unknown offer and one not made to you are the same 409",
}
# Whoever holds a public link's token sees that order, whoever they are signed in as.
TOKEN_PAGES = {"api-v1:public-timeline", "field:public-timeline"}
DENIED = {401, 403, 404, 405}
LOGIN = "/accounts/login/"


@pytest.fixture(scope="module")
def harness(world):
    return Harness(world, ACTORS)


def test_every_url_has_an_entry():
    missing = sorted(set(BY_NAME) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(BY_NAME))
    assert not missing, f"URLs without an entry in tests/security/matrix.py: {missing}"
    assert not stale, f"entries in tests/security/matrix.py for URLs that no longer exist: {stale}"


def test_every_path_parameter_names_a_kind_of_object():
    unknown = [(r.name, p) for r in ROUTES for p in r.params if param_kind(r.name, p) is None]
    assert not unknown, f"add a rule to tests/security/kinds.py for {unknown}"


def test_skipped_urls_are_only_the_listed_kinds():
    assert all(reason for reason in SKIPPED.values())
    assert not any(name.startswith(("api-v1:ticket", "desk:", "field:")) for name in SKIPPED)


def _sides(route):
    kinds = {param_kind(route.name, p) for p in route.params}
    return ("a", "b") if kinds - SHARED_KINDS else ("a",)


def _target(world, route, side):
    if not route.params:
        return None
    obj = world.obj(param_kind(route.name, route.params[0]), side)
    return None if isinstance(obj, str) else obj


GET_ROUTES = [n for n in IN_MATRIX if "get" in BY_NAME[n].methods]


@pytest.mark.django_db
@pytest.mark.parametrize("name", GET_ROUTES)
def test_get(world, harness, name):
    route, entry = BY_NAME[name], MATRIX[name]
    wrong = []
    for side in _sides(route):
        path = route.path(path_values(world, route, side))
        expected = entry.get_row(side)
        for actor in ACTORS if side == "a" else SIDE_B_ACTORS:
            response = harness.send(actor, "get", path)
            if response.status_code != expected[actor]:
                wrong.append(
                    f"{actor} on {side} ({path}): {response.status_code}, expected {expected[actor]}"
                )
            elif response.status_code == 302 and actor == "anonymous":
                if not response["Location"].startswith(LOGIN):
                    wrong.append(f"anonymous on {side} ({path}): sent to {response['Location']}")
            elif response.status_code == 200 and name not in TOKEN_PAGES:
                body = _body(response)
                for marker, forbidden in MAY_NOT_READ.items():
                    if actor in forbidden and marker in body:
                        wrong.append(f"{actor} on {side} ({path}): the answer shows {marker}")
    assert not wrong, "\n".join(wrong)


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", "replace")


def _denied_actors(route, entry, method):
    """Who is tried, on which side: (actor, side) pairs."""
    refused = [a for a in ACTORS if a not in entry.writers_of(method)]
    tries = [("anonymous", "a")] if "anonymous" in refused else []
    if "customer_b_admin" in refused:
        tries.append(("customer_b_admin", "a"))
    rest = [a for a in refused if a not in ("anonymous", "customer_b_admin")]
    if rest:
        tries.append((rest[zlib.crc32(f"{route.name} {method}".encode()) % len(rest)], "a"))
    if "b" in _sides(route) and route.name not in SIDE_B_EXEMPT:
        tries += [("customer_a_user", "b"), ("partner_engineer", "b")]
    return tries


WRITE_CASES = [
    pytest.param(name, method, id=f"{name}-{method.upper()}")
    for name in IN_MATRIX
    for method in BY_NAME[name].methods
    if method in UNSAFE
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), WRITE_CASES)
def test_denied_write_changes_nothing(world, harness, name, method):
    route, entry = BY_NAME[name], MATRIX[name]
    wrong = []
    for actor, side in _denied_actors(route, entry, method):
        path = route.path(path_values(world, route, side))
        target = _target(world, route, side)
        status, changes, location = harness.denied_write(actor, method, path, target)
        to_login = status == 302 and location.startswith(LOGIN)
        refused = status in DENIED or (actor == "anonymous" and to_login)
        if not refused or changes:
            wrong.append(f"{actor} {method.upper()} {path} on {side}: {status}, changed {changes}")
    assert not wrong, "\n".join(wrong)
