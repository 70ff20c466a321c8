"""Every state change of field service, in one place (pages, API, jobs all call these)."""

from frontline.field.dispatching import (
    claim_offer,
    dispatch,
    expire_offers,
    offer,
    send_to_partner,
    withdraw_offer,
)
from frontline.field.engineers import record_position
from frontline.field.execution import (
    accept,
    add_photo,
    cancel,
    check_in,
    close,
    complete,
    hold,
    reject,
    resume,
    set_checklist_item,
    sign,
    start_travel,
)
from frontline.field.links import send_timeline_link, submit_survey
from frontline.field.orders import add_note, create_work_order, set_appointment

__all__ = [
    "accept",
    "add_note",
    "add_photo",
    "cancel",
    "check_in",
    "claim_offer",
    "close",
    "complete",
    "create_work_order",
    "dispatch",
    "expire_offers",
    "hold",
    "offer",
    "record_position",
    "reject",
    "resume",
    "send_timeline_link",
    "send_to_partner",
    "set_appointment",
    "set_checklist_item",
    "sign",
    "start_travel",
    "submit_survey",
    "withdraw_offer",
]
