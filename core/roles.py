"""Who is who: the roles of users and the kinds of agent organisation (plain enums, no Flask)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    AGENT = "agent"
    BRANCH_OFFICER = "branch_officer"
    FINANCE = "finance"
    ADMIN = "admin"
    LEADERSHIP = "leadership"  # the centre's leadership: live monitoring and quality alerts (/monitoring)


class OrganisationKind(enum.StrEnum):
    POSTAL = "postal"
    TECHNOLOGY = "technology"
