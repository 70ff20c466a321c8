from frontline.field.models.engineers import (
    Certification,
    EngineerProfile,
    Leave,
    PositionPing,
    Shift,
)
from frontline.field.models.rules import DispatchRule
from frontline.field.models.work_orders import (
    ChecklistItem,
    ChecklistTemplate,
    GrabOffer,
    PublicLink,
    Survey,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderPhoto,
    WorkOrderSkill,
)

__all__ = [
    "Certification",
    "ChecklistItem",
    "ChecklistTemplate",
    "DispatchRule",
    "EngineerProfile",
    "GrabOffer",
    "Leave",
    "PositionPing",
    "PublicLink",
    "Shift",
    "Survey",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderPhoto",
    "WorkOrderSkill",
]
