from frontline.inspections.models.rounds import Anomaly, PointVisit, Reading, Round
from frontline.inspections.models.routes import (
    CheckItem,
    Checkpoint,
    QualityScheme,
    Route,
    Schedule,
    Sop,
    SopKpi,
    SopVersion,
)

__all__ = [
    "Anomaly",
    "CheckItem",
    "Checkpoint",
    "PointVisit",
    "QualityScheme",
    "Reading",
    "Round",
    "Route",
    "Schedule",
    "Sop",
    "SopKpi",
    "SopVersion",
]
