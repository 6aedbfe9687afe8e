"""Domain errors of the citizen's tracking page (feedback, rescheduling)."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput
from core.messages import Text


class FeedbackNotOpen(Conflict):
    code = "feedback_not_open"
    title = Text("Chưa thể đánh giá", "Feedback is not open yet")


class FeedbackAlreadyGiven(Conflict):
    code = "feedback_already_given"
    title = Text("Hồ sơ đã được đánh giá", "Feedback already given")


class InvalidFeedback(InvalidInput):
    code = "invalid_feedback"
    title = Text("Đánh giá không hợp lệ", "Invalid feedback")


class RescheduleUnavailable(Conflict):
    code = "reschedule_unavailable"
    title = Text("Không thể đặt lại lịch giao", "Delivery cannot be rescheduled")
