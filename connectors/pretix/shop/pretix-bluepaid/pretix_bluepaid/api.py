"""The hub's one write of its own: the outcome of the payment pretix's checkout started.

pretix's checkout creates a payment of this provider (state ``created``) when the
buyer places the order; the hub learns the outcome from Bluepaid later. pretix's
REST API can confirm that payment (``.../payments/{local_id}/confirm/``) but
cannot write its ``info``, where the Bluepaid transaction number belongs and
where the hub finds what it already wrote. Without this route the hub would
create a second payment and leave the first one payable in the admin.

``POST /api/v1/organizers/{organizer}/events/{event}/orders/{code}/bluepaid/{local_id}/outcome/``
with ``{"state": "confirmed" | "failed" | "canceled", "amount": "36.60",
"payment_date": ISO 8601 or null, "info": {...}, "send_email": bool}`` records
the outcome on that payment, with the ``info`` added to its own, in one
transaction; the answer is the payment as pretix's API shows it. pretix's own
rules hold: the call needs the permission to change orders (as pretix's
payment routes do), its ``X-Idempotency-Key`` middleware answers a retry with
the first answer, and confirming goes through ``OrderPayment.confirm`` (which
marks the order paid, or tells the organiser why not). Refused with 400: a
payment no longer ``created`` or ``pending`` (``{"detail": "Invalid state of
payment"}``, as pretix words it), or an amount other than the payment's.
"""

from contextlib import suppress
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from pretix.api.serializers.order import OrderPaymentSerializer
from pretix.base.models import Order, OrderPayment, Quota
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

#: The outcomes the hub records, as pretix names the payment states.
OUTCOMES = (
    OrderPayment.PAYMENT_STATE_CONFIRMED,
    OrderPayment.PAYMENT_STATE_FAILED,
    OrderPayment.PAYMENT_STATE_CANCELED,
)
_OPEN = (OrderPayment.PAYMENT_STATE_CREATED, OrderPayment.PAYMENT_STATE_PENDING)


class PaymentOutcomeViewSet(viewsets.GenericViewSet):
    """The payments of this provider on one order, and the ``outcome`` action on each."""

    queryset = OrderPayment.objects.none()
    serializer_class = OrderPaymentSerializer
    lookup_field = "local_id"
    # The permissions of pretix's own payment routes (src/pretix/api/views/order.py, PaymentViewSet).
    permission = "event.orders:read"
    write_permission = "event.orders:write"

    def get_queryset(self) -> Any:
        order = get_object_or_404(Order, code=self.kwargs["order"], event=self.request.event)
        return order.payments.filter(provider="bluepaid")

    @action(detail=True, methods=["POST"])
    def outcome(self, request: Request, **kwargs: Any) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        state, info = data.get("state"), data.get("info") or {}
        problems = {}
        if state not in OUTCOMES:
            problems["state"] = [f"One of {', '.join(OUTCOMES)}."]
        if not isinstance(info, dict):
            problems["info"] = ["A JSON object."]
        try:
            amount = Decimal(str(data.get("amount")))
        except InvalidOperation:
            problems["amount"] = ["A valid number is required."]
        if problems:
            return Response(problems, status=status.HTTP_400_BAD_REQUEST)
        date = parse_datetime(str(data.get("payment_date") or "")) or None
        found = self.get_object()
        with transaction.atomic():
            payment = OrderPayment.objects.select_for_update().get(pk=found.pk)
            if payment.state not in _OPEN:
                return Response({"detail": "Invalid state of payment"}, status=status.HTTP_400_BAD_REQUEST)
            if amount != payment.amount:
                # Not the payment the hub took: it records one of its own instead.
                return Response(
                    {"amount": [f"The payment is of {payment.amount}."]}, status=status.HTTP_400_BAD_REQUEST
                )
            payment.info_data = {**payment.info_data, **info}
            _record(payment, str(state), date, request, send_email=bool(data.get("send_email", True)))
        payment.refresh_from_db()
        context = {**self.get_serializer_context(), "order": payment.order, "event": request.event}
        return Response(OrderPaymentSerializer(payment, context=context).data)


def _record(payment: OrderPayment, state: str, date: Any, request: Request, *, send_email: bool) -> None:
    """Move ``payment`` (its new info set, not saved) to ``state`` as pretix's own code does."""
    if state == OrderPayment.PAYMENT_STATE_CONFIRMED:
        # confirm() saves the info with the state, and marks the order paid when it can. No
        # tickets left: as pretix's own "create a confirmed payment", the money is recorded
        # and the order stays unpaid for the organiser to decide.
        with suppress(Quota.QuotaExceededException):
            payment.confirm(
                count_waitinglist=False, send_mail=send_email, auth=request.auth, payment_date=date
            )
    elif state == OrderPayment.PAYMENT_STATE_FAILED:
        # No "payment failed" mail of pretix's: the hub tells the buyer and offers to pay again.
        payment.fail(info=payment.info_data, auth=request.auth, send_mail=False)
    else:
        payment.state = OrderPayment.PAYMENT_STATE_CANCELED
        payment.save(update_fields=["state", "info"])
        payment.order.log_action(
            "pretix.event.order.payment.canceled",
            {"local_id": payment.local_id, "provider": payment.provider},
            auth=request.auth,
        )
