"""GetRequesterStatistic and GetRequesterWorkerStatistic (legacy API): what a requester's own HITs,
assignments and money add up to over a time period (``periods``), read from the same rows and journal
as everything else.  Dollar amounts and fractions are Decimals, counts ints."""

from __future__ import annotations

from collections.abc import Callable

from openturk.errors import ParameterError
from openturk.service import slots
from openturk.service.statistics import requester as requester_stats
from openturk.service.statistics import worker as worker_stats
from openturk.service.statistics.periods import PERIODS, DataPoint, Value, Window, windows
from openturk.service.uow import MarketTransactions

REQUESTER_STATISTICS = requester_stats.NAMES
WORKER_STATISTICS = worker_stats.NAMES


class StatisticsService:
    def __init__(self, tx: MarketTransactions) -> None:
        self._tx = tx

    def for_requester(
        self, requester_id: str, statistic: str, period: str, count: int | None
    ) -> tuple[DataPoint, ...]:
        _check(statistic, REQUESTER_STATISTICS, period)
        if statistic in requester_stats.PRESENT and period != "LifeToDate":
            raise ParameterError(
                f"The statistic {statistic} describes the present and is only available for the "
                "TimePeriod LifeToDate.",
                data={"Statistic": statistic, "TimePeriod": period},
            )
        with self._tx.read() as (conn, now):
            measure: Callable[[Window], Value] = getattr(
                requester_stats.RequesterStatistics(conn, requester_id, now), statistic
            )
            return tuple(DataPoint(date, measure(w)) for date, w in windows(period, count, now))

    def for_worker(
        self, requester_id: str, worker_id: str, statistic: str, period: str, count: int | None
    ) -> tuple[DataPoint, ...]:
        _check(statistic, WORKER_STATISTICS, period)
        with self._tx.read() as (conn, now):
            slots.load_worker(conn, worker_id)
            measure: Callable[[Window], Value] = getattr(
                worker_stats.WorkerStatistics(conn, requester_id, worker_id), statistic
            )
            return tuple(DataPoint(date, measure(w)) for date, w in windows(period, count, now))


def _check(statistic: str, known: tuple[str, ...], period: str) -> None:
    if statistic not in known:
        raise ParameterError(
            f'The value "{statistic}" is not valid for the parameter Statistic. '
            f"Use one of {', '.join(known)}.",
            data={"Statistic": statistic},
        )
    if period not in PERIODS:
        raise ParameterError(
            f'The value "{period}" is not valid for the parameter TimePeriod. '
            f"Use one of {', '.join(PERIODS)}.",
            data={"TimePeriod": period},
        )
