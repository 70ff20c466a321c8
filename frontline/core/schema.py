"""drf-spectacular hooks: make the schema say what every operation can answer.

Each view documents its success responses and the domain errors it raises; the errors
that any endpoint can give come from the shared plumbing instead (authentication, the
base viewset's 403/404, strict query parameters and pagination's 400/404,
``frontline.core.rest.exception_handler``), so they are added here to every operation
that does not document them itself, all with the one ``Error`` body.
"""

from __future__ import annotations

ERROR_REF = {"$ref": "#/components/schemas/Error"}

# status -> why any operation can answer it
COMMON_ERRORS = {
    "400": "Bad input: a body, query parameter or filter value.",
    "401": "No credentials, or a bad, expired or revoked token.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object (or not yours to see), or no such page.",
}


# DRF writes a time of day as "08:30:00"; JSON Schema's "time" format is RFC 3339's
# full-time, which needs an offset ("08:30:00+08:00"), so validators reject our values.
TIME_OF_DAY = {
    "type": "string",
    "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
    "example": "08:30:00",
}


def _times_of_day(node) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node.update({k: v for k, v in TIME_OF_DAY.items() if k not in node})
        for value in node.values():
            _times_of_day(value)
    elif isinstance(node, list):
        for value in node:
            _times_of_day(value)


def times_of_day_as_patterns(result, generator, request, public):
    """Describe times of day as what the API sends ("HH:MM[:SS[.ffffff]]")."""
    _times_of_day(result)
    return result


def add_common_errors(result, generator, request, public):
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            security = operation.get("security", result.get("security"))
            for status, description in COMMON_ERRORS.items():
                if status == "401" and not any(security or ()):
                    continue  # public operation: it reads no credentials
                body = {"application/json": {"schema": ERROR_REF}}
                responses.setdefault(status, {"content": body, "description": description})
    return result


# ---------------------------------------------------------------- audiences

# A customer (or a partner outlet) reads some resources through a narrower serializer
# than staff: the staff-only keys are left out of their answers. Such a serializer names
# the staff shape it narrows (``narrows = WorkOrderSerializer``); the staff component
# then lists those keys as optional, so both answers match the one documented schema.
STAFF_ONLY_NOTE = "Staff only: absent from what customers and partner outlets receive."


def _serializer_classes():
    from rest_framework import serializers

    seen, todo = set(), [serializers.BaseSerializer]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return seen


def _component_name(cls) -> str:
    name = cls.__name__
    return name[: -len("Serializer")] if name.endswith("Serializer") else name


def _staff_only_keys() -> dict[str, set[str]]:
    """Staff component name -> the keys some narrower audience does not receive."""
    keys: dict[str, set[str]] = {}
    for cls in _serializer_classes():
        staff = cls.__dict__.get("narrows")
        if staff is None:
            continue
        missing = set(staff().fields) - set(cls().fields)
        keys.setdefault(_component_name(staff), set()).update(missing)
    return keys


def staff_only_keys_optional(result, generator, request, public):
    schemas = result.get("components", {}).get("schemas", {})
    for name, keys in _staff_only_keys().items():
        component = schemas.get(name)
        if not component or not keys:
            continue
        component["required"] = [k for k in component.get("required", []) if k not in keys]
        if not component["required"]:
            del component["required"]
        for key in keys & set(component.get("properties", {})):
            prop = component["properties"][key]
            text = prop.get("description", "")
            prop["description"] = f"{text} {STAFF_ONLY_NOTE}".strip()
    return result
