"""SMS to citizens: a one-part template per dossier event, providers, delivery receipts, retention.

``templates`` (pure), ``providers`` (HTTP gateway, dev outbox), ``service`` (use cases),
``jobs`` (outbox handlers of ``notify.dossier_event``, ``notify.send_sms``,
``notify.dev_receipt``, ``notify.purge``), ``api`` (receipts), ``views`` (``/dev/sms``).
"""
