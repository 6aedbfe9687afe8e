"""The monitoring's words: group dimensions, tiers, levels, outcomes, SIPAS criteria, alert kinds."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

DIMENSION_LABELS = {"point": _l("Service point"), "tier": _l("Kind of point"),
                    "organisation": _l("Agent organisation"), "level": _l("Procedure level")}
TIER_LABELS = {"branch": _l("Branch"), "district_point": _l("Reception point"), "commune_point": _l("Commune point")}
LEVEL_LABELS = {"province": _l("Province"), "district": _l("District"), "commune": _l("Commune")}
# SIPAS: the five elements of the satisfaction index of public administrative services.
SIPAS_LABELS = {
    "sipas_access": _l("Access to the service"),
    "sipas_procedure": _l("The administrative procedure"),
    "sipas_officer": _l("The officers who handled it"),
    "sipas_result": _l("The result"),
    "sipas_feedback": _l("Handling of comments and complaints"),
}
ALERT_LABELS = {
    "capacity": _l("Point above its daily capacity threshold"),
    "deadline": _l("Dossier one working day from its deadline"),
    "on_time": _l("Point's on-time rate this week under the threshold"),
    "low_rating": _l("Low satisfaction rating"),
}
COLUMN_LABELS = {
    "group": _l("Group"), "received": _l("Received"), "resolved": _l("Resolved"), "early": _l("Early"),
    "on_time": _l("On time"), "late": _l("Late"), "overdue_now": _l("Overdue now"),
    "on_time_rate": _l("On-time rate (%)"), "avg_working_days": _l("Average (working days)"),
    "p90_working_days": _l("90th percentile (working days)"), "outside_radius": _l("Outside the service radius"),
    "ratings": _l("Ratings"), "rating_avg": _l("Average rating"),
}


def label(labels: dict, key) -> str:
    if key is None:
        return "—"
    return str(labels[key]) if key in labels else str(key)
