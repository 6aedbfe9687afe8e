"""Finance: what every agent collected reconciled against what the gateway and the bank settled.

Statements per agent organisation and agent point, cash handovers, gateway and bank
reconciliation, the exception queue, the treasury report. The money itself is booked by
``payments`` (payments, refunds, the ledger); this package reads it set-based and books only
through ``payments.ledger`` (handovers, adjustments, treasury transfers).
"""
