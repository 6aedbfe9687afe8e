"""Domain errors of the dossier use cases."""

from __future__ import annotations

from core.errors import Conflict, DomainError, InvalidInput
from core.messages import Text


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = Text("Chuyển trạng thái không hợp lệ", "Illegal status transition")


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"
    title = Text(
        "Idempotency-Key đã dùng cho một yêu cầu khác",
        "Idempotency-Key already used for a different request",
    )


class NoServicePoint(InvalidInput):
    code = "no_service_point"
    title = Text("Không có điểm phục vụ phù hợp", "No eligible service point")


class DocumentsClosed(Conflict):
    code = "documents_closed"
    title = Text("Hồ sơ không còn nhận thêm giấy tờ", "The dossier no longer takes documents")


class FileTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
    title = Text("Tệp quá lớn", "File too large")


class UnsupportedFileType(DomainError):
    status = 415
    code = "unsupported_media_type"
    title = Text("Loại tệp không được hỗ trợ", "Unsupported file type")


class DocumentRefused(DomainError):
    """The content is of an accepted type but not acceptable: a polyglot, trailing data, a decompression bomb."""

    status = 422
    code = "document_refused"
    title = Text("Tệp không được chấp nhận", "File refused")


class StaleDossier(Conflict):
    """Optimistic locking: the action was decided on a version of the dossier that another officer has
    since changed; nothing was done."""

    code = "stale_dossier"
    title = Text("Hồ sơ đã được người khác thay đổi", "The dossier was changed by someone else")
