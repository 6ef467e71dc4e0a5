"""UpdateNotificationSettings and SendTestEventNotification."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openturk.protocol.handlers.base import Call, Handler
from openturk.service import notifications_delivery
from openturk.service.notifications import NotificationSpec


def update_notification_settings(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    spec = params.get("Notification")
    active = params.get("Active")
    call.services.notifications.update_settings(
        call.requester_id,
        params["HITTypeId"],
        None if spec is None else NotificationSpec.from_params(spec),
        None if active is None else bool(active),
    )
    return {}


def send_test_event_notification(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.notifications.send_test_event(
        call.requester_id, NotificationSpec.from_params(params["Notification"]), params["TestEventType"]
    )
    notifications_delivery.wake()  # "the service attempts to send the test notification immediately"
    return {}


HANDLERS: Mapping[str, Handler] = {
    "UpdateNotificationSettings": update_notification_settings,
    "SendTestEventNotification": send_test_event_notification,
}
