"""What a job produced and what it finally cost, read the same way by the API families, webhook
deliveries and pages (none of them owns it)."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from generations.models import Asset, Job
from studio.models import LedgerEntry


def with_refunds(qs: Any) -> Any:
    """Annotate jobs with their refunded cents (one query instead of a ledger read per job)."""
    return qs.annotate(
        refunded_cents=Coalesce(
            Sum("ledger_entries__amount_cents", filter=Q(ledger_entries__kind="refund")), 0
        )
    )


def refunded_subquery() -> Any:
    """A job's refunded cents as a scalar subquery (for a query that joins other rows to jobs,
    where with_refunds' aggregate would count each refund once per joined row)."""
    refunds = (
        LedgerEntry.objects.filter(job=OuterRef("pk"), kind="refund")
        .order_by()
        .values("job")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    return Coalesce(Subquery(refunds), 0)


def charged_cents(job: Job) -> int:
    """What the job finally cost: its charge (cost_cents, placed by submit_job) minus refunds."""
    refunded = getattr(job, "refunded_cents", None)
    if refunded is not None:
        return max(job.cost_cents - refunded, 0)

    # A charge is negative and a refund positive, so the cost is minus their sum.
    amounts = LedgerEntry.objects.filter(
        job=job, kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.REFUND]
    ).values_list("amount_cents", flat=True)
    return max(-sum(amounts), 0)


def job_outputs(job: Job) -> list[Asset]:
    """The job's output assets in the order they were made (with their shop)."""
    return list(Asset.objects.filter(job=job).select_related("shop").order_by("created_at", "id"))
