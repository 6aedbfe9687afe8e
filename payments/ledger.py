"""Double-entry bookkeeping in whole đồng: the pure core.

A transaction is a set of entries on accounts whose amounts sum to zero (debits positive,
credits negative). Transactions are append-only: a mistake or a refund is a new,
reversing transaction, never an edit. The database layer stores what this module builds
and refuses anything it would refuse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Account(StrEnum):
    GATEWAY_CLEARING = "gateway_clearing"  # money the gateway holds for us until it pays out
    BANK = "bank"  # the centre's bank account
    CASH_AT_AGENTS = "cash_at_agents"  # cash agents collected and still owe the centre
    CASH_AT_CENTRE = "cash_at_centre"  # cash agents handed over at the centre's counter (its cashier's till)
    TREASURY_PAYABLE = "treasury_payable"  # state fees owed to the treasury
    AGENT_PAYABLE = "agent_payable"  # service fees owed to agent organisations
    COURIER_PAYABLE = "courier_payable"  # courier fees owed to the postal company
    GATEWAY_FEES = "gateway_fees"  # the gateway's charges (an expense)


class UnbalancedTransaction(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    account: Account
    amount_vnd: int  # debit > 0, credit < 0
    party: str | None = None  # e.g. the agent organisation a payable is owed to


@dataclass(frozen=True)
class Transaction:
    kind: str  # payment, refund, gateway_fee, payout, cash_handover, …
    reference: str  # the business object: a PaymentIntent id, a refund id, a payout id
    entries: tuple[Entry, ...]

    def __post_init__(self):
        if len(self.entries) < 2:
            raise UnbalancedTransaction("a transaction needs at least two entries")
        if any(not isinstance(e.amount_vnd, int) or isinstance(e.amount_vnd, bool) for e in self.entries):
            raise UnbalancedTransaction("amounts are whole đồng")
        if any(e.amount_vnd == 0 for e in self.entries):
            raise UnbalancedTransaction("an entry of zero says nothing")
        if sum(e.amount_vnd for e in self.entries) != 0:
            raise UnbalancedTransaction(f"{self.kind} {self.reference} does not sum to zero")

    def reversed(self, kind: str, reference: str) -> Transaction:
        return Transaction(kind, reference, tuple(Entry(e.account, -e.amount_vnd, e.party) for e in self.entries))


def payment(reference: str, components: Mapping[str, int], received_in: Account = Account.GATEWAY_CLEARING,
            agent: str | None = None) -> Transaction:
    """A citizen's payment: money in (``received_in``), owed onward per component."""
    owed = {"state_fee": Account.TREASURY_PAYABLE, "service_fee": Account.AGENT_PAYABLE,
            "courier_fee": Account.COURIER_PAYABLE}
    credits = [Entry(owed[name], -amount, agent if name == "service_fee" else None)
               for name, amount in components.items() if amount]
    total = sum(components.values())
    return Transaction("payment", reference, (Entry(received_in, total, agent if received_in is
                                                    Account.CASH_AT_AGENTS else None), *credits))


def gateway_fee(reference: str, fee_vnd: int) -> Transaction:
    return Transaction("gateway_fee", reference, (Entry(Account.GATEWAY_FEES, fee_vnd),
                                                  Entry(Account.GATEWAY_CLEARING, -fee_vnd)))


def payout(reference: str, amount_vnd: int) -> Transaction:
    return Transaction("payout", reference, (Entry(Account.BANK, amount_vnd),
                                             Entry(Account.GATEWAY_CLEARING, -amount_vnd)))


def cash_handover(reference: str, amount_vnd: int, agent: str, received_in: Account = Account.BANK) -> Transaction:
    """Cash an agent handed over: into the bank (a deposit) or the centre's till (the counter)."""
    return Transaction("cash_handover", reference, (Entry(received_in, amount_vnd),
                                                    Entry(Account.CASH_AT_AGENTS, -amount_vnd, agent)))


def refund(reference: str, refunded: Mapping[str, int], agent: str | None = None) -> Transaction:
    """Money back to the citizen out of the gateway, reversing what each component was owed."""
    return payment(reference, refunded, agent=agent).reversed("refund", reference)


def balances(transactions: Iterable[Transaction]) -> dict[tuple[Account, str | None], int]:
    totals: dict[tuple[Account, str | None], int] = defaultdict(int)
    for transaction in transactions:
        for entry in transaction.entries:
            totals[(entry.account, entry.party)] += entry.amount_vnd
    return dict(totals)


# Accounts finance may correct by hand through the exception queue (gateway_fees included: a fee booked
# wrong is corrected against the clearing account).
ADJUSTABLE = frozenset(Account)


def adjustment(reference: str, entries: Iterable[Entry]) -> Transaction:
    """A correction finance books by hand (the exception queue): balanced, on the adjustable accounts."""
    entries = tuple(entries)
    if any(e.account not in ADJUSTABLE for e in entries):
        raise UnbalancedTransaction("an adjustment touches only the adjustable accounts")
    if len({(e.account, e.party) for e in entries}) != len(entries):
        raise UnbalancedTransaction("an adjustment names each account (and party) once")
    return Transaction("adjustment", reference, entries)


def treasury_transfer(reference: str, amount_vnd: int) -> Transaction:
    """State fees paid to the State Treasury out of the centre's bank account."""
    return Transaction("treasury_transfer", reference, (Entry(Account.TREASURY_PAYABLE, amount_vnd),
                                                        Entry(Account.BANK, -amount_vnd)))
