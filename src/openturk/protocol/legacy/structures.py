"""The flattened MTurk structures a legacy request carries, rebuilt in the 2017 API's shape, so the
service layer receives the same dicts from both front doors.

- ``QualificationRequirement.N``: QualificationTypeId, Comparator, IntegerValue.M, LocaleValue.M.Country
  and .Subdivision (or an index-less LocaleValue), RequiredToPreview.
- ``AssignmentReviewPolicy`` / ``HITReviewPolicy`` (with or without ``.1``): PolicyName, and
  Parameter.N with Key, Value.M and MapEntry.K (Key, Value.M).
- ``Notification`` (with or without ``.1``): Destination, Transport, Version, EventType.M.
"""

from __future__ import annotations

from typing import Any

from openturk.protocol.legacy.params import Params, xs_int
from openturk.service.notifications import NotificationSpec


def qualification_requirements(params: Params) -> tuple[dict[str, Any], ...]:
    requirements = []
    for prefix, sub in params.structures("QualificationRequirement"):
        requirement: dict[str, Any] = {
            "QualificationTypeId": sub.required_member(prefix, "QualificationTypeId"),
            "Comparator": sub.required_member(prefix, "Comparator"),
        }
        integers = sub.indexed("IntegerValue")
        if integers:
            requirement["IntegerValues"] = [xs_int(v, f"{prefix}.IntegerValue") for v in integers]
        locales = [_locale(locale, f"{prefix}.{name}") for name, locale in _locale_values(sub)]
        if locales:
            requirement["LocaleValues"] = locales
        preview = sub.boolean("RequiredToPreview")
        if preview is not None:
            requirement["RequiredToPreview"] = preview
        requirements.append(requirement)
    return tuple(requirements)


def _locale_values(sub: Params) -> list[tuple[str, Params]]:
    return sub.structures("LocaleValue")  # LocaleValue.N.Country, or one index-less LocaleValue.Country


def _locale(locale: Params, prefix: str) -> dict[str, str]:
    found = {"Country": locale.required_member(prefix, "Country")}
    subdivision = locale.text("Subdivision")
    if subdivision:
        found["Subdivision"] = subdivision
    return found


def review_policy(params: Params, name: str) -> dict[str, Any] | None:
    policy = params.structure(name)
    if policy is None:
        return None
    shown = f"{name}.1"
    parameters = []
    for prefix, parameter in policy.structures("Parameter"):
        entry: dict[str, Any] = {"Key": parameter.required_member(f"{shown}.{prefix}", "Key")}
        values = parameter.indexed("Value")
        if values:
            entry["Values"] = values
        entries = [
            {
                "Key": mapped.required_member(f"{shown}.{prefix}.{map_prefix}", "Key"),
                "Values": mapped.indexed("Value"),
            }
            for map_prefix, mapped in parameter.structures("MapEntry")
        ]
        if entries:
            entry["MapEntries"] = entries
        parameters.append(entry)
    return {"PolicyName": policy.required_member(shown, "PolicyName"), "Parameters": parameters}


def notification(params: Params, *, required: bool) -> NotificationSpec | None:
    spec = params.structure("Notification")
    if spec is None:
        if required:
            params.required("Notification.1.Destination")
        return None
    return NotificationSpec(
        destination=spec.required_member("Notification.1", "Destination"),
        transport=spec.required_member("Notification.1", "Transport"),
        version=spec.required_member("Notification.1", "Version"),
        event_types=tuple(spec.indexed("EventType")),
    )
