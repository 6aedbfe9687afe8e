"""The demo month's plan: who comes to which agent point when, for what, how they pay, and how the
branch answers, drawn from a seeded ``random.Random``. Plain values only; app/demo_month.py plays it.

Whatever the volume, the plan holds at least one of everything the screens show: every agent point
takes dossiers, card, VietQR and cash payments, refunds, dossiers outside the service radius, late and
overdue ones, and ratings from 1 to 5.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from app import demo_people
from app.demo_agents import AGENT_POINTS, DemoAgentPoint
from core.calendar import is_public_holiday, is_working_day
from core.models import AgentPointKind
from core.timeutil import LOCAL_TZ, to_local
from dossiers.enums import Status
from geo.territory import in_hanoi
from payments import vietqr

MARKER = "demo-month-"
OPENS, CLOSES = time(8, 0), time(17, 0)
WORK_MINUTES = 9 * 60
OFFICERS = {"HN-CN01": "canbo.cn01@demo.hanoi.vn", "HN-CN02": "canbo.cn02@demo.hanoi.vn",
            "HN-CN07": "canbo.cn07@demo.hanoi.vn"}
# Statuses at which the branch has answered: a dossier past its deadline in any other is overdue.
RESULT_GIVEN = frozenset({Status.RESULT_READY, Status.OUT_FOR_DELIVERY, Status.DELIVERED, Status.COLLECTED,
                          Status.CLOSED, Status.REJECTED, Status.CANCELLED})
# Places in Hanoi far from the points that take province-level dossiers (outside the service radius).
FAR = ((20.62, 105.77), (20.65, 105.89), (20.98, 105.44), (20.86, 105.56), (20.77, 105.68), (20.59, 105.74))
SUPPLEMENTS = ("Bổ sung bản sao giấy khai sinh có chứng thực", "Thiếu văn bản ủy quyền có công chứng",
               "Ảnh chân dung chưa đúng quy cách (4x6, nền trắng)", "Tờ khai chưa có chữ ký của người yêu cầu",
               "Bổ sung giấy tờ chứng minh nơi cư trú")
REJECTIONS = ("Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan tiếp nhận",
              "Người yêu cầu không đủ điều kiện theo quy định", "Giấy tờ nộp kèm không hợp lệ (bản chụp không rõ)")
CANCELS = ("Công dân đổi ý, không tiếp tục làm thủ tục", "Đại lý nhập nhầm thủ tục, đã tạo hồ sơ mới")
LOW = ("Trả kết quả chậm so với giấy hẹn, phải hỏi lại nhiều lần.", "Giao kết quả trễ, bưu tá không gọi trước.",
       "Phải bổ sung giấy tờ hai lần vì hướng dẫn ban đầu chưa rõ.", "Chờ quá lâu, không thấy tin nhắn báo.")
MIDDLE = ("Tạm ổn, nhưng nên nhắn tin báo tiến độ sớm hơn.", "Thủ tục được, thời gian hơi lâu.")
HIGH = ("Nhanh chóng, tiện lợi, không phải lên phường.", "Nhân viên bưu điện hướng dẫn nhiệt tình.",
        "Nhận kết quả tại nhà rất tiện.", "Đúng hẹn, sẽ giới thiệu cho người quen.")
SUCCESS_CARDS = ("pm_card_visa", "pm_card_mastercard", "pm_card_vn", "pm_card_visa_debit")
DECLINED_CARDS = ("pm_card_chargeDeclinedInsufficientFunds", "pm_card_chargeDeclined",
                  "pm_card_chargeDeclinedExpiredCard")


@dataclass(frozen=True)
class Procedure:
    code: str
    level: str
    processing_days: int


@dataclass
class Plan:
    seq: int
    point: DemoAgentPoint
    procedure: Procedure
    received_at: datetime
    body: dict
    rng: random.Random
    method: str | None = None  # card | vietqr | cash; None: not paid yet
    cards: tuple[str, ...] = ("pm_card_visa",)
    transfer_after: timedelta | None = None  # VietQR: when the citizen transfers (None: not yet)
    transfer_short_vnd: int = 0  # a transfer of less than was asked
    outcome: str = "on_time"  # early | on_time | late | overdue | stuck | rejected | cancelled
    supplement_reason: str | None = None
    reject_reason: str = REJECTIONS[0]
    cancel_reason: str = CANCELS[0]
    rating: int | None = None
    comment: str | None = None
    rating_after: timedelta = timedelta(hours=3)
    refund: str | None = None  # full | partial
    refund_reason: str = ""
    # Known once registered.
    number: str | None = None
    service_point_code: str | None = None
    deadline_at: datetime | None = None

    @property
    def reference(self) -> str:
        return f"{MARKER}{self.seq:04d}"

    @property
    def agent_email(self) -> str:
        return self.point.email

    @property
    def courier(self) -> bool:
        return self.body["delivery"]["method"] == "courier"

    def rng_minutes(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


# ---------------------------------------------------------------- time

def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def next_work_time(at: datetime, minutes: int = 0) -> datetime:
    """``minutes`` of office time (08:00–17:00 on working days) after ``at``, in UTC."""
    moment = to_local(at)
    left = minutes
    while True:
        day = moment.date()
        opens, closes = datetime.combine(day, OPENS, tzinfo=LOCAL_TZ), datetime.combine(day, CLOSES, tzinfo=LOCAL_TZ)
        if not is_working_day(day) or moment >= closes:
            moment = datetime.combine(day + timedelta(days=1), OPENS, tzinfo=LOCAL_TZ)
            continue
        moment = max(moment, opens)
        room = int((closes - moment).total_seconds() // 60)
        if left < room:
            return (moment + timedelta(minutes=left)).astimezone(timezone.utc)
        left -= room
        moment = closes


def waking(at: datetime) -> datetime:
    """``at``, or the next 07:00 when it falls at night (22:00–07:00): when a citizen rates on their phone."""
    moment = to_local(at)
    if moment.hour >= 22:
        moment = datetime.combine(moment.date() + timedelta(days=1), time(7, moment.minute), tzinfo=LOCAL_TZ)
    elif moment.hour < 7:
        moment = datetime.combine(moment.date(), time(7, moment.minute), tzinfo=LOCAL_TZ)
    return moment.astimezone(timezone.utc)


# ---------------------------------------------------------------- the month

def plan_month(days: int, *, seed: int, volume: float, now: datetime, procedures: list[Procedure]) -> list[Plan]:
    """Every dossier of the ``days`` days before ``now``'s day and of that day up to ``now``, by time."""
    rng = random.Random(seed)
    today = to_local(now).date()
    arrivals: list[tuple[datetime, DemoAgentPoint]] = []
    for offset in range(days, -1, -1):
        day = today - timedelta(days=offset)
        arrivals += _arrivals(rng, day, volume)
    arrivals = sorted(a for a in arrivals if a[0] <= now)
    plans = []
    for seq, (at, point) in enumerate(arrivals, start=1):
        plans.append(_plan(random.Random(seed * 1_000_003 + seq), seq, at, point, procedures))
    _guarantee(plans, now, procedures)
    return plans


def _arrivals(rng: random.Random, day: date, volume: float) -> list[tuple[datetime, DemoAgentPoint]]:
    weekday = day.weekday()
    holiday = is_public_holiday(day)
    if holiday or weekday == 6:  # Sundays and holidays: the online channels only, a few
        points, mean = [p for p in AGENT_POINTS if p.kind is AgentPointKind.ONLINE], 3
    elif weekday == 5:  # Saturday mornings
        points, mean = AGENT_POINTS, 10
    else:
        points, mean = AGENT_POINTS, 30
    count = max(1 if not (holiday or weekday >= 5) else 0, round(rng.gauss(mean, mean / 6) * volume))
    found = []
    for _ in range(count):
        point = rng.choices(points, [p.weight for p in points])[0]
        found.append((_moment(rng, day, point, saturday=weekday == 5), point))
    return found


_OFFICE_HOURS = (7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
_OFFICE_WEIGHTS = (1, 6, 9, 8, 4, 2, 5, 7, 6, 3)
_ONLINE_HOURS = tuple(range(6, 23))
_ONLINE_WEIGHTS = (1, 2, 4, 6, 6, 5, 4, 4, 5, 5, 4, 3, 3, 4, 5, 4, 2)


def _moment(rng: random.Random, day: date, point: DemoAgentPoint, saturday: bool) -> datetime:
    if point.kind is AgentPointKind.ONLINE:
        hour = rng.choices(_ONLINE_HOURS, _ONLINE_WEIGHTS)[0]
    elif saturday:
        hour = rng.choice((8, 9, 10, 11))
    else:
        hour = rng.choices(_OFFICE_HOURS, _OFFICE_WEIGHTS)[0]
    minute = rng.randint(30, 59) if hour == 7 else rng.randint(0, 59)
    return local(day, time(hour, minute, rng.randint(0, 59)))


def _plan(rng: random.Random, seq: int, at: datetime, point: DemoAgentPoint, procedures: list[Procedure]) -> Plan:
    level = rng.choices(("commune", "province"), (8, 2))[0]  # no district level since 1/7/2025
    procedure = rng.choice([p for p in procedures if p.level == level] or procedures)
    person = demo_people.citizen(rng)
    online = point.kind is AgentPointKind.ONLINE
    spread = 0.03 if online else 0.008 if point.kind is AgentPointKind.TABLET else 0.012
    lat, lon = rng.gauss(point.lat, spread), rng.gauss(point.lon, spread)
    while not in_hanoi(lat, lon):  # near the outline: closer to the point
        lat, lon = (lat + point.lat) / 2, (lon + point.lon) / 2
    courier = rng.random() < (0.8 if online else 0.5)
    body = {"procedure_code": procedure.code, "citizen": person,
            "location": {"lat": round(lat, 6), "lon": round(lon, 6), "source": "gps"},
            "delivery": {"method": "courier" if courier else "collect",
                         "address": person["address"] if courier else None},
            "agent_reference": f"{MARKER}{seq:04d}"}
    plan = Plan(seq, point, procedure, at, body, rng)
    _payment(plan, online)
    _outcome(plan)
    _feedback(plan)
    return plan


def _payment(plan: Plan, online: bool) -> None:
    rng = plan.rng
    kinds = ("card", "vietqr") if online else ("card", "vietqr", "cash")
    weights = (6, 4) if online else (3, 3, 4) if plan.point.kind is AgentPointKind.POST_OFFICE else (3, 4, 3)
    plan.method = rng.choices(kinds, weights)[0]
    if plan.method == "card":
        good = rng.choice(SUCCESS_CARDS)
        plan.cards = (rng.choice(DECLINED_CARDS), good) if rng.random() < 0.07 else (good,)
    elif plan.method == "vietqr":
        roll = rng.random()
        plan.transfer_after = None if roll < 0.02 else timedelta(minutes=rng.randint(2, 240))
        plan.transfer_short_vnd = rng.choice((5_000, 10_000, 20_000)) if 0.02 <= roll < 0.07 else 0


def _outcome(plan: Plan) -> None:
    rng = plan.rng
    plan.outcome = rng.choices(("early", "on_time", "late", "overdue", "rejected", "cancelled"),
                               (28, 52, 10, 4, 4, 2))[0]
    if plan.outcome not in ("rejected", "cancelled") and rng.random() < 0.1:
        plan.supplement_reason = rng.choice(SUPPLEMENTS)
    plan.reject_reason, plan.cancel_reason = rng.choice(REJECTIONS), rng.choice(CANCELS)
    if plan.outcome in ("rejected", "cancelled"):
        plan.refund = "full"
        plan.refund_reason = ("Hoàn phí do hồ sơ bị từ chối" if plan.outcome == "rejected"
                              else "Hoàn phí do công dân hủy hồ sơ")
    elif plan.courier and plan.outcome == "late" and rng.random() < 0.3:
        plan.refund = "partial"
        plan.refund_reason = "Hoàn phí chuyển phát do trả kết quả trễ hẹn"


def _feedback(plan: Plan) -> None:
    rng = plan.rng
    if plan.outcome in ("rejected", "cancelled", "overdue", "stuck") or rng.random() > 0.65:
        return
    weights = (2, 3, 8, 30, 57) if plan.outcome != "late" else (15, 20, 25, 25, 15)
    set_rating(plan, rng.choices((1, 2, 3, 4, 5), weights)[0])


def set_rating(plan: Plan, rating: int) -> None:
    rng = plan.rng
    plan.rating = rating
    pool = LOW if rating <= 2 else MIDDLE if rating == 3 else HIGH
    plan.comment = rng.choice(pool) if rating <= 2 or rng.random() < 0.3 else None
    plan.rating_after = timedelta(minutes=rng.randint(30, 2 * 24 * 60))


def _guarantee(plans: list[Plan], now: datetime, procedures: list[Procedure]) -> None:
    """At least one of everything, whatever the volume: points, methods, refunds, late, overdue, far, ratings."""
    weekday = [p for p in plans if is_working_day(to_local(p.received_at).date())]
    for plan, point in zip(weekday, AGENT_POINTS, strict=False):
        plan.point = point
        if point.kind is AgentPointKind.ONLINE and plan.method == "cash":
            plan.method = "card"
    quick = sorted((p for p in procedures if p.processing_days <= 2), key=lambda p: p.processing_days)
    province = [p for p in procedures if p.level == "province"]
    early = [p for p in weekday if now - p.received_at > timedelta(days=12)]
    spare = iter(early[len(AGENT_POINTS):] or early)
    forced: set[int] = set()

    def take(**changes) -> Plan | None:
        plan = next(spare, None)
        if plan is None:
            return None
        forced.add(plan.seq)
        for name, value in changes.items():
            setattr(plan, name, value)
        return plan

    for index in range(2):
        for outcome in ("late", "stuck"):  # stuck: never answered, overdue now
            plan = take(outcome=outcome, supplement_reason=None, refund=None, rating=None)
            if plan is not None and quick:
                _set_procedure(plan, quick[index % len(quick)])
    refund_plans = [take(outcome="rejected", method="card", cards=("pm_card_visa",), refund="full",
                         refund_reason="Hoàn phí do hồ sơ bị từ chối", rating=None),
                    take(outcome="cancelled", method="vietqr", transfer_after=timedelta(minutes=10),
                         transfer_short_vnd=0, refund="full", refund_reason="Hoàn phí do công dân hủy hồ sơ",
                         rating=None)]
    for plan in refund_plans:
        if plan is not None and plan.point.kind is AgentPointKind.ONLINE and plan.method == "cash":
            plan.method = "card"
    for rating in (1, 2, 3, 4, 5):
        plan = take(outcome="early", supplement_reason=None, refund=None)
        if plan is not None:
            if quick:
                _set_procedure(plan, quick[rating % len(quick)])
            if rating == 4 and plan.point.kind is not AgentPointKind.ONLINE:
                plan.method = "cash"
            set_rating(plan, rating)
    for index, plan in enumerate(plans):
        if index % 37 == 5 and province and plan.point.kind is not AgentPointKind.ONLINE and plan.seq not in forced:
            lat, lon = FAR[index % len(FAR)]
            near = (lat + plan.rng.uniform(-0.004, 0.004), lon + plan.rng.uniform(-0.004, 0.004))
            lat, lon = near if in_hanoi(*near) else (lat, lon)
            plan.body["location"] = {"lat": round(lat, 6), "lon": round(lon, 6), "source": "gps"}
            _set_procedure(plan, province[index % len(province)])


def _set_procedure(plan: Plan, procedure: Procedure) -> None:
    plan.procedure = procedure
    plan.body["procedure_code"] = procedure.code


# ---------------------------------------------------------------- one dossier's life

def lifecycle(plan: Plan) -> list[tuple[datetime, str]]:
    """The steps after registration, with their times (the handover comes once the result is ready)."""
    rng, at, deadline = plan.rng, plan.received_at, plan.deadline_at
    steps: list[tuple[datetime, str]] = []

    def step(moment: datetime, kind: str) -> datetime:
        moment = max(moment, (steps[-1][0] if steps else at) + timedelta(minutes=1))
        steps.append((moment, kind))
        return moment

    if plan.method is not None:
        step(at + timedelta(minutes=rng.randint(1, 8)), "pay")
    if plan.outcome == "cancelled":
        step(at + timedelta(minutes=rng.randint(15, 90)), "cancel")
        return steps
    accepted = step(next_work_time(at, rng.randint(10, 240)), "accept")
    processing = step(next_work_time(accepted, rng.randint(5, 120)), "process")
    if plan.outcome == "rejected":
        step(next_work_time(processing, rng.randint(60, 2 * WORK_MINUTES)), "reject")
        return steps
    if plan.outcome == "stuck":  # forgotten in a queue: overdue once its deadline passes
        return steps
    span = max(deadline - processing, timedelta(minutes=30))
    pause = timedelta()
    if plan.supplement_reason:
        asked = step(next_work_time(processing + span * rng.uniform(0.1, 0.4), 0), "supplement")
        resumed = step(next_work_time(asked, rng.randint(1, 3) * WORK_MINUTES), "resume")
        pause = resumed - asked
    if plan.outcome == "early":
        result = processing + span * rng.uniform(0.2, 0.6) + pause
    elif plan.outcome == "on_time":
        result = processing + span * rng.uniform(0.75, 0.97) + pause
    elif plan.outcome == "late":
        result = next_work_time(deadline, rng.randint(60, 3 * WORK_MINUTES))
    else:  # overdue: the result comes long after the deadline (if that is already past, it was just late)
        result = next_work_time(deadline, rng.randint(5, 12) * WORK_MINUTES)
    result = next_work_time(result, 0)
    if plan.outcome in ("early", "on_time") and result > deadline:
        result = deadline - timedelta(minutes=rng.randint(5, 60))
    step(result, "result")
    return steps


def handover(plan: Plan, result_at: datetime) -> list[tuple[datetime, str]]:
    """After the result is ready: out for delivery and delivered by courier, or collected at the counter."""
    rng = plan.rng
    if plan.courier:
        local_result = to_local(result_at)
        windows = (time(10, 0), time(15, 0))
        day, out = local_result.date(), None
        while out is None:
            for window in windows:
                candidate = local(day, window)
                if is_working_day(day) and candidate >= result_at + timedelta(minutes=30):
                    out = candidate
                    break
            day += timedelta(days=1)
        out += timedelta(minutes=rng.randint(5, 50))
        return [(out, "out"), (out + timedelta(minutes=rng.randint(60, 300)), "deliver")]
    return [(next_work_time(result_at, rng.randint(30, 4 * WORK_MINUTES)), "collect")]


# ---------------------------------------------------------------- the bank statement

def statement_days(plans: list[Plan], now: datetime) -> list[datetime]:
    """Finance imports the bank statement every working morning at 08:30 from the month's second day on."""
    if not plans:
        return []
    first, last = to_local(plans[0].received_at).date() + timedelta(days=1), to_local(now).date()
    found, day = [], first
    while day <= last:
        if is_working_day(day):
            found.append(local(day, time(8, 30)))
        day += timedelta(days=1)
    return [moment for moment in found if moment <= now]


def _unaccented(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).upper()


def statement_csv(transfers: list[tuple[datetime, Plan, int]], rng: random.Random) -> bytes:
    """The centre's account statement (CSV, as the bank exports it) with the transfers' credits, and now and
    then a transfer without a reference (a citizen who typed only their name)."""
    rows = ["Ngân hàng TMCP Ngoại thương Việt Nam - Sao kê tài khoản", "",
            "Ngày giao dịch;Số tham chiếu;Ghi nợ;Ghi có;Nội dung"]
    for at, plan, amount in transfers:
        name = _unaccented(plan.body["citizen"]["full_name"])
        reference = vietqr.reference_for(plan.number)
        rows.append(f"{to_local(at):%d/%m/%Y %H:%M:%S};FT{to_local(at):%y%m%d}{plan.seq:05d};;"
                    f"{amount - plan.transfer_short_vnd};{reference} {name} nop phi ho so")
    if transfers and rng.random() < 0.15:
        at, plan, amount = transfers[-1]
        name = _unaccented(demo_people.citizen(rng)["full_name"])
        rows.append(f"{to_local(at):%d/%m/%Y %H:%M:%S};FT{to_local(at):%y%m%d}9{plan.seq:04d};;{amount};"
                    f"{name} CHUYEN TIEN NOP PHI")
    return ("\n".join(rows) + "\n").encode("utf-8")
