"""Where payouts go: a Stripe Connect transfer, or (development and tests) a recording that
makes none. ``payout_gateway`` picks one from ``settings.SLATE_PAYOUT_GATEWAY``."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from . import stripe_gateway
from .stripe_results import GatewayError, TransferResult, metadata_strings


class PayoutGateway(Protocol):
    def transfer(
        self,
        *,
        destination_account_id: str,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, object],
    ) -> TransferResult: ...


class StripeConnectPayouts:
    """A Stripe Connect transfer to the candidate's connected account (see
    ``stripe_gateway.transfer``)."""

    def transfer(
        self,
        *,
        destination_account_id: str,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, object],
    ) -> TransferResult:
        return stripe_gateway.transfer(
            destination_account_id=destination_account_id,
            amount_cents=amount_cents,
            currency=currency,
            idempotency_key=idempotency_key,
            metadata=metadata,
        )


@dataclass(frozen=True)
class RecordedTransfer:
    id: str
    destination_account_id: str
    amount_cents: int
    currency: str
    idempotency_key: str
    metadata: dict[str, str]


class RecordingPayouts:
    """No network: records the transfer in memory and names it after the idempotency key.

    Like Stripe, a repeated key returns the first result without a second transfer, and the
    same key with different arguments is refused (``idempotency_error``). The record lives in
    this process only: it is for tests and development, not a ledger.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.transfers: list[RecordedTransfer] = []

    @staticmethod
    def transfer_id(idempotency_key: str) -> str:
        return "tr_rec_" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:16]

    def transfer(
        self,
        *,
        destination_account_id: str,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, object],
    ) -> TransferResult:
        if amount_cents <= 0:
            raise ValueError("amount_cents must be positive")
        if not idempotency_key:
            raise ValueError("every transfer needs an idempotency key")
        record = RecordedTransfer(
            id=self.transfer_id(idempotency_key),
            destination_account_id=destination_account_id,
            amount_cents=amount_cents,
            currency=currency,
            idempotency_key=idempotency_key,
            metadata=metadata_strings(metadata),
        )
        with self._lock:
            for earlier in self.transfers:
                if earlier.idempotency_key == idempotency_key:
                    if earlier != record:
                        raise GatewayError(
                            "idempotency_error",
                            f"key {idempotency_key!r} was used with other arguments",
                            retryable=False,
                        )
                    return TransferResult(id=earlier.id, status="recorded")
            self.transfers.append(record)
        return TransferResult(id=record.id, status="recorded")

    def clear(self) -> None:
        with self._lock:
            self.transfers.clear()


_recording_payouts = RecordingPayouts()


def payout_gateway() -> PayoutGateway:
    """The gateway named by ``settings.SLATE_PAYOUT_GATEWAY``: ``stripe_connect``, or
    ``recording`` (development and tests only, which production settings refuse; one instance
    per process, so tests can inspect ``.transfers``)."""
    name = getattr(settings, "SLATE_PAYOUT_GATEWAY", "recording") or "recording"
    if name == "recording":
        return _recording_payouts
    if name == "stripe_connect":
        return StripeConnectPayouts()
    raise ValueError(f"unknown SLATE_PAYOUT_GATEWAY {name!r} (recording or stripe_connect)")
