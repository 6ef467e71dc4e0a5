"""GetRequesterStatistic and GetRequesterWorkerStatistic: Statistic, TimePeriod (OneDay, SevenDays,
ThirtyDays, LifeToDate) and Count (OneDay's number of days), answered in a ``GetStatisticResult``
element, as the legacy service named it, with one DataPoint (Date and LongValue or DoubleValue) per
period.  The statistics themselves are ``service.statistics``'."""

from __future__ import annotations

from collections.abc import Sequence

from openturk.protocol.legacy import xml
from openturk.protocol.legacy.base import Context, Operation, Runner
from openturk.protocol.legacy.params import Params
from openturk.protocol.legacy.xml import Xml, el, text
from openturk.service.statistics.periods import DataPoint


def _points(points: Sequence[DataPoint]) -> Xml:
    return xml.concat(
        el(
            "DataPoint",
            xml.date("Date", p.date),
            text("LongValue", p.value) if isinstance(p.value, int) else text("DoubleValue", str(p.value)),
        )
        for p in points
    )


def get_requester_statistic(params: Params) -> Runner:
    statistic, period = params.required("Statistic"), params.required("TimePeriod")
    count = params.integer("Count")

    def run(ctx: Context) -> Xml:
        points = ctx.services.statistics.for_requester(ctx.requester_id, statistic, period, count)
        return xml.concat([text("Statistic", statistic), text("TimePeriod", period), _points(points)])

    return run


def get_requester_worker_statistic(params: Params) -> Runner:
    worker_id = params.required("WorkerId")
    statistic, period = params.required("Statistic"), params.required("TimePeriod")
    count = params.integer("Count")

    def run(ctx: Context) -> Xml:
        points = ctx.services.statistics.for_worker(ctx.requester_id, worker_id, statistic, period, count)
        return xml.concat(
            [
                text("WorkerId", worker_id),
                text("Statistic", statistic),
                text("TimePeriod", period),
                _points(points),
            ]
        )

    return run


OPERATIONS = {
    "GetRequesterStatistic": Operation("GetStatisticResult", get_requester_statistic),
    "GetRequesterWorkerStatistic": Operation("GetStatisticResult", get_requester_worker_statistic),
}
