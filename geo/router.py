"""Route a location to the best eligible service point, and say why in words.

Pure Python over plain data (no Flask, no database): the API, batch work, coverage
and benchmarks share it.

- Index: the points projected to a metric CRS (WGS 84 / UTM 48N, pyproj) in a shapely
  STRtree; a query takes the points within a search radius, widened until enough
  eligible points are found.
- Eligibility: the point receives the procedure's level (and tier, when asked), is
  active on the day, open at the time of routing, and under today's daily capacity.
  When no point meets all of that, one rule is given up at a time (capacity, else opening
  hours, else both), and the decision says which.
- Distance: exact geodesic on WGS84 for the candidates; travel minutes from a
  travel-time provider (offline model by default).
- Choice: least travel time in whole minutes, ties broken by load (share of today's
  capacity used), then distance. Non-territorial: the citizen's unit plays no part.
- Honesty: a point's coordinates are only as good as what placed them (its
  ``coord_precision``: the building, its street, a ward's or commune's centre, a former
  district's mean); the explanation says which, since distances and minutes stand on it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import shapely
from pyproj import Transformer

from core.plural import count
from geo.rules import WGS84, RadiusRule, RuleHeld
from geo.travel import MODE_WORDS, Mode, OfflineTravelModel, OfflineTravelTime, TravelTimeProvider

_TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
# UTM 48N stretches distances by at most ~0.4% across Vietnam; searches pad radii by this.
_PROJECTION_SLACK = 1.01
# Whole-minute ties (±0.5 min) at any plausible speed stay well inside this extra search margin.
_TIE_MARGIN_KM = 0.5
RELAX_ORDER = ("capacity", "opening_hours")


@dataclass(frozen=True)
class PointCandidate:
    id: int
    code: str
    name: str
    tier: str
    lat: float
    lon: float
    levels: frozenset[str] = field(default_factory=frozenset)
    hours: object | None = None  # geo.hours.OpeningHours; None means always open
    daily_capacity: int | None = None  # None means unlimited
    active_from: date | None = None
    active_to: date | None = None
    coord_precision: str = "unknown"  # geo.models.CoordPrecision's value

    def is_active_on(self, day: date | None) -> bool:
        if day is None:
            return True
        return (self.active_from is None or self.active_from <= day) and (
            self.active_to is None or day <= self.active_to
        )

    def is_open(self, local: datetime | None, holiday: bool) -> bool:
        return self.hours is None or local is None or self.hours.is_open(local, holiday)


@dataclass(frozen=True)
class RouteOption:
    point: PointCandidate
    distance_km: float
    minutes: float
    rule_held: RuleHeld
    load: int = 0

    @property
    def within(self) -> bool:
        return self.rule_held is not RuleHeld.NONE

    @property
    def load_ratio(self) -> float:
        return self.load / self.point.daily_capacity if self.point.daily_capacity else 0.0


@dataclass(frozen=True)
class RoutingContext:
    """When and how a citizen travels, and how busy the points are today."""

    local: datetime | None = None  # local time of routing (Asia/Ho_Chi_Minh); None ignores hours
    is_public_holiday: bool = False
    # Dossiers received today, by point code. Treated as immutable: pass a new mapping when counts change.
    loads: Mapping[str, int] = field(default_factory=dict)
    mode: Mode = Mode.MOTORBIKE
    travel: TravelTimeProvider = field(default_factory=OfflineTravelTime)
    tiers: frozenset[str] | None = None

    @property
    def day(self) -> date | None:
        return self.local.date() if self.local else None


@dataclass(frozen=True)
class RoutingDecision:
    chosen: RouteOption | None
    alternatives: tuple[RouteOption, ...]
    rule: RadiusRule
    explanation_vi: str
    explanation_en: str
    relaxed: tuple[str, ...] = ()  # constraints given up because no point met them
    mode: Mode = Mode.MOTORBIKE
    travel_source: str = "offline"
    fallback_reason: str | None = None

    @property
    def outside_service_radius(self) -> bool:
        return self.chosen is None or not self.chosen.within


class Network:
    """Points prepared for routing: projected coordinates in an STRtree, and arrays for the
    eligibility masks (level, tier, active dates, opening-hours rule, capacity)."""

    SCAN_BELOW = 1000

    def __init__(self, points: Iterable[PointCandidate]):
        self.points = tuple(points)
        n = len(self.points)
        self.lons = np.array([p.lon for p in self.points], dtype=float)
        self.lats = np.array([p.lat for p in self.points], dtype=float)
        x, y = _TO_METRIC.transform(self.lons, self.lats)
        self.xy = np.column_stack([x, y]) if n else np.empty((0, 2))
        self.tree = shapely.STRtree(shapely.points(self.xy))
        self._levels = {
            lv: np.array([lv in p.levels for p in self.points], dtype=bool)
            for lv in {lv for p in self.points for lv in p.levels}
        }
        self._tiers = np.array([p.tier for p in self.points], dtype=object)
        far_past, far_future = date.min.toordinal(), date.max.toordinal()
        self._from = np.array([p.active_from.toordinal() if p.active_from else far_past for p in self.points])
        self._to = np.array([p.active_to.toordinal() if p.active_to else far_future for p in self.points])
        # Few distinct opening-hours rules serve many points: judge each rule once per decision.
        rules = {}
        self._hours_id = np.array([rules.setdefault(str(p.hours), len(rules)) if p.hours else -1
                                   for p in self.points], dtype=int)
        self._hours = [None] * len(rules)
        for p in self.points:
            if p.hours is not None:
                self._hours[rules[str(p.hours)]] = p.hours
        self.by_code = {p.code: i for i, p in enumerate(self.points)}
        self.code_rank = np.argsort(np.argsort(np.array([p.code for p in self.points], dtype=object)))
        self.capacity = np.array([p.daily_capacity or 0 for p in self.points], dtype=float)
        self._zeros = np.zeros(n, dtype=bool)
        self._mask_cache: dict = {}
        self._mask_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.points)

    def masks(self, level: str, ctx: RoutingContext) -> list[tuple[tuple[str, ...], np.ndarray]]:
        """Eligibility masks from strictest to most relaxed: (constraints given up, mask).

        Remembered for the last few distinct situations (level, tiers, day, which hours
        rules are open, the loads mapping): consecutive decisions mostly share them.
        """
        open_rules = tuple(h.is_open(ctx.local, ctx.is_public_holiday) for h in self._hours) \
            if ctx.local is not None else ()
        key = (level, ctx.tiers, ctx.day, open_rules, id(ctx.loads), len(ctx.loads))
        cached = self._mask_cache.get(key)
        if cached is not None and cached[0] is ctx.loads:
            return cached[1]
        masks = self._masks(level, ctx, open_rules)
        with self._mask_lock:
            if len(self._mask_cache) >= 16:
                self._mask_cache.pop(next(iter(self._mask_cache)))
            self._mask_cache[key] = (ctx.loads, masks)
        return masks

    def _masks(self, level: str, ctx: RoutingContext, open_rules: tuple[bool, ...]):
        static = self._levels.get(level, self._zeros)
        if ctx.tiers is not None:
            static = static & np.isin(self._tiers, list(ctx.tiers))
        if ctx.day is not None:
            day = ctx.day.toordinal()
            static = static & (self._from <= day) & (day <= self._to)
        if open_rules:
            open_now = static & np.array([*open_rules, True])[self._hours_id]  # -1 is "no rule": always open
        else:
            open_now = static
        full = np.zeros(len(self.points), dtype=bool)
        for code, load in ctx.loads.items():
            i = self.by_code.get(code)
            if i is not None and self.points[i].daily_capacity is not None and load >= self.points[i].daily_capacity:
                full[i] = True
        # One rule given up at a time, then both: after hours with room everywhere only the hours are given up
        # (and said), never the capacity too.
        return [((), open_now & ~full), (("capacity",), open_now), (("opening_hours",), static & ~full),
                (RELAX_ORDER, static)]

    def within_km(self, xy: tuple[float, float], radius_km: float) -> np.ndarray:
        """Indices of points within ``radius_km`` of projected ``xy`` (padded for the projection).

        The STRtree answers for large networks; below ``SCAN_BELOW`` points one vectorised
        pass over the coordinates is faster than the tree's per-query overhead (bench/).
        """
        radius_m = radius_km * 1000 * _PROJECTION_SLACK
        if len(self.points) < self.SCAN_BELOW:
            return np.flatnonzero(((self.xy - xy) ** 2).sum(axis=1) <= radius_m * radius_m)
        return self.tree.query(shapely.points(xy), predicate="dwithin", distance=radius_m)

    def nearest_km(self, xy: tuple[float, float], mask: np.ndarray, count: int, beyond_km: float = 0.0) -> np.ndarray:
        """The ``count`` nearest points of ``mask`` (planar), with every point the projection or a
        tie could put ahead of the last of them, and every point within ``beyond_km``."""
        index = np.flatnonzero(mask)
        d = np.sqrt(((self.xy[index] - xy) ** 2).sum(axis=1)) / 1000.0
        k = min(count, len(index))
        reach = max(np.partition(d, k - 1)[k - 1] * _PROJECTION_SLACK ** 2 + _TIE_MARGIN_KM, beyond_km)
        return index[d <= reach]

    @staticmethod
    def project(lat: float, lon: float) -> tuple[float, float]:
        return _TO_METRIC.transform(lon, lat)


def search_radius_km(rule: RadiusRule, ctx: RoutingContext) -> float:
    """Straight-line radius that holds every point the rule could accept, at the mode's best speed."""
    model = getattr(ctx.travel, "model", None)
    if model is not None:
        by_time = model.max_straight_km(rule.max_minutes, ctx.mode, None)
    else:  # an engine: roads are never shorter than the straight line; assume 40 km/h at best
        by_time = rule.max_minutes / 60.0 * 40.0
    return max(rule.max_km, by_time)


def route(
    lat: float,
    lon: float,
    level: str,
    network: Network | Iterable[PointCandidate],
    rule: RadiusRule = RadiusRule(),
    ctx: RoutingContext | None = None,
    alternatives: int = 3,
) -> RoutingDecision:
    network = network if isinstance(network, Network) else Network(network)
    ctx = ctx or RoutingContext()
    choice = next(((relaxed, mask) for relaxed, mask in network.masks(level, ctx) if mask.any()), None)
    if choice is None:
        return _no_point(rule, ctx)
    relaxed, mask = choice
    total = int(mask.sum())
    wanted = min(alternatives + 1, total)
    xy = network.project(lat, lon)
    radius = search_radius_km(rule, ctx)
    found = network.within_km(xy, radius)
    candidates = found[mask[found]]
    if len(candidates) < wanted:
        # Too few inside the radius: the nearest ones wherever they are (exact by construction).
        candidates = network.nearest_km(xy, mask, wanted)
        options, estimate = _options(lat, lon, network, candidates, rule, ctx, wanted)
    else:
        options, estimate = _options(lat, lon, network, candidates, rule, ctx, wanted)
        # Exact for distance-ranked travel: nothing beyond the radius can beat the last kept option.
        reach = options[-1].distance_km * _PROJECTION_SLACK + _TIE_MARGIN_KM
        if reach > radius and len(candidates) < total:
            candidates = network.nearest_km(xy, mask, wanted, beyond_km=reach)
            options, estimate = _options(lat, lon, network, candidates, rule, ctx, wanted)
    vi, en = explain(options[0], rule, ctx.mode, relaxed)
    return RoutingDecision(options[0], tuple(options[1:]), rule, vi, en, relaxed, ctx.mode,
                           estimate.source, estimate.fallback_reason)


def _options(lat, lon, network: Network, index: np.ndarray, rule: RadiusRule, ctx: RoutingContext, wanted: int):
    """The ``wanted`` best options among the points at ``index``, best first."""
    lats, lons = network.lats[index].tolist(), network.lons[index].tolist()
    if len(lats) <= 16:  # PROJ's C code per pair beats preparing arrays for a handful of points
        km = [WGS84.inv(lon, lat, x, y)[2] / 1000.0 for x, y in zip(lons, lats, strict=True)]
    else:
        count = len(lats)
        km = (np.asarray(WGS84.inv(np.full(count, lon), np.full(count, lat), lons, lats)[2]) / 1000.0).tolist()
    estimate = ctx.travel.estimate((lat, lon), list(zip(lats, lons, strict=True)), km, ctx.mode, ctx.local)
    points = [network.points[i] for i in index.tolist()]
    loads = [ctx.loads.get(p.code, 0) for p in points] if ctx.loads else [0] * len(points)
    # Keys built from plain values: RouteOptions are made only for the few that are kept.
    keyed = sorted(
        (_rank(m, load / p.daily_capacity if p.daily_capacity else 0.0, d, p.code), p, m, load)
        for p, d, m, load in zip(points, km, estimate.minutes, loads, strict=True)
    )[:wanted]
    options = [RouteOption(p, key[2], m, rule.judge(key[2], m), load) for key, p, m, load in keyed]
    return options, estimate


def _rank(minutes: float, load_ratio: float, km: float, code: str) -> tuple:
    """Least whole minutes first, then the less loaded point, then the nearer, then by code."""
    return (round(minutes), load_ratio, km, code)


def rank_key(option: RouteOption) -> tuple:
    return _rank(option.minutes, option.load_ratio, option.distance_km, option.point.code)


def option_for(lat: float, lon: float, point: PointCandidate, rule: RadiusRule,
               ctx: RoutingContext | None = None) -> RouteOption:
    """The option of one given point (an agent's own choice), judged by the same rule."""
    ctx = ctx or RoutingContext()
    distance = WGS84.inv(lon, lat, point.lon, point.lat)[2] / 1000.0
    minutes = ctx.travel.estimate((lat, lon), [(point.lat, point.lon)], [distance], ctx.mode, ctx.local).minutes[0]
    return RouteOption(point, distance, minutes, rule.judge(distance, minutes), ctx.loads.get(point.code, 0))


def _no_point(rule: RadiusRule, ctx: RoutingContext) -> RoutingDecision:
    return RoutingDecision(
        None, (), rule,
        "Không có điểm phục vụ nào đang hoạt động tiếp nhận thủ tục cấp này.",
        "No active service point receives procedures of this level.",
        mode=ctx.mode,
    )


_VI_SEPARATORS = str.maketrans(",.", ".,")


def _km(value: float, locale: str) -> str:
    """One decimal with grouping: 1,234.5 in English, 1.234,5 in Vietnamese (as Babel's CLDR data)."""
    text = f"{value:,.1f}"
    return text.translate(_VI_SEPARATORS) if locale == "vi" else text


def _number(value: float, locale: str) -> str:
    text = _km(value, locale)
    return text[:-2] if text.endswith((",0", ".0")) else text


_MINUTE_WORDS = {"vi": ("phút", "phút"), "en": ("minute", "minutes")}


def _minutes(n: int, locale: str) -> str:
    return count(n, *_MINUTE_WORDS[locale], locale=locale)


_RELAXED_WORDS = {
    "capacity": ("mọi điểm gần đã đủ chỉ tiêu hôm nay", "every nearby point is at today's capacity"),
    "opening_hours": ("các điểm đang ngoài giờ làm việc", "the points are closed at this hour"),
}


# What the chosen point's coordinates stand on (geo.models.CoordPrecision), in both languages.
PRECISION_WORDS = {
    "building": ("vị trí điểm theo đúng tòa nhà", "the point's position is its building"),
    "street": ("vị trí điểm ước lượng theo tuyến phố", "the point's position is estimated from its street"),
    "ward_centre": ("vị trí điểm ước lượng theo tâm phường",
                    "the point's position is estimated from the ward's centre"),
    "unit_centre": ("vị trí điểm ước lượng theo tâm xã, phường (đơn vị từ 1/7/2025)",
                    "the point's position is estimated from the centre of its commune or ward (as of 1/7/2025)"),
    "district_mean": ("vị trí điểm ước lượng theo trung bình tâm các phường, xã của quận, huyện cũ",
                      "the point's position is estimated as the mean of its former district's ward centres"),
    "unknown": ("chưa rõ vị trí điểm chính xác đến đâu", "how precise the point's position is, is not known"),
}


def explain(option: RouteOption, rule: RadiusRule, mode: Mode = Mode.MOTORBIKE,
            relaxed: tuple[str, ...] = ()) -> tuple[str, str]:
    """One sentence in Vietnamese and one in English, e.g.
    "Chi nhánh số 2 — 3,2 km, khoảng 14 phút đi xe máy — trong bán kính 5 km — vị trí điểm ước lượng
    theo tâm phường"."""
    name = option.point.name
    # Counts take their language's plural form (CLDR, through Babel): "1 minute", "17 minutes";
    # Vietnamese has one form. "km" is a unit symbol: it has no plural.
    minutes_vi, minutes_en = _minutes(round(option.minutes), "vi"), _minutes(round(option.minutes), "en")
    radius_vi, radius_en = _number(rule.max_km, "vi"), _number(rule.max_km, "en")
    limit_vi, limit_en = _minutes(round(rule.max_minutes), "vi"), _minutes(round(rule.max_minutes), "en")
    held = {
        RuleHeld.BOTH: (f"trong bán kính {radius_vi} km và dưới {limit_vi}",
                        f"within {radius_en} km and under {limit_en}"),
        RuleHeld.DISTANCE: (f"trong bán kính {radius_vi} km", f"within the {radius_en} km radius"),
        RuleHeld.TRAVEL_TIME: (f"dưới {limit_vi} di chuyển", f"under {limit_en} of travel"),
        RuleHeld.NONE: (f"ngoài bán kính phục vụ ({radius_vi} km / {limit_vi})",
                        f"outside the service radius ({radius_en} km / {limit_en})"),
    }[option.rule_held]
    mode_vi, mode_en = MODE_WORDS[mode]
    vi = f"{name} — {_km(option.distance_km, 'vi')} km, khoảng {minutes_vi} {mode_vi} — {held[0]}"
    en = f"{name} — {_km(option.distance_km, 'en')} km, about {minutes_en} {mode_en} — {held[1]}"
    if relaxed:
        vi += " (" + "; ".join(_RELAXED_WORDS[r][0] for r in relaxed) + ")"
        en += " (" + "; ".join(_RELAXED_WORDS[r][1] for r in relaxed) + ")"
    precision_vi, precision_en = PRECISION_WORDS.get(option.point.coord_precision, PRECISION_WORDS["unknown"])
    return f"{vi} — {precision_vi}", f"{en} — {precision_en}"


@dataclass(frozen=True)
class BatchResult:
    """Per location: the index of the nearest eligible point in ``network.points`` (-1: none),
    its geodesic distance, the travel minutes and whether the rule holds."""

    point_index: np.ndarray
    distance_km: np.ndarray
    minutes: np.ndarray
    within: np.ndarray


def route_batch(
    lats: np.ndarray,
    lons: np.ndarray,
    level: str,
    network: Network,
    rule: RadiusRule = RadiusRule(),
    model: OfflineTravelModel | None = None,
    ctx: RoutingContext | None = None,
    chunk: int = 200_000,
) -> BatchResult:
    """The nearest eligible point for many locations at once (planning, coverage, audits).

    Eligibility is the static part of ``route``: level, tier, active on the day and open
    at ``ctx.local`` (when given); today's loads play no part. Distances are exact
    geodesics: the planar nearest point is refined among every point the projection
    could have misranked.
    """
    model = model or OfflineTravelModel()
    ctx = ctx or RoutingContext()
    lats, lons = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
    eligible = np.flatnonzero(network.masks(level, ctx)[1][1])  # open now, capacity ignored
    n = len(lats)
    out_index = np.full(n, -1, dtype=np.int64)
    out_km = np.full(n, np.inf)
    if len(eligible):
        tree = shapely.STRtree(shapely.points(network.xy[eligible]))
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            out_index[start:stop], out_km[start:stop] = _nearest_chunk(
                lats[start:stop], lons[start:stop], network, eligible, tree)
    minutes = out_km * model.circuity / model.speed_kmh(ctx.mode, ctx.local) * 60.0
    within = (out_km <= rule.max_km) | (minutes <= rule.max_minutes)
    return BatchResult(out_index, out_km, minutes, within)


def _nearest_chunk(lats, lons, network: Network, eligible: np.ndarray, tree) -> tuple[np.ndarray, np.ndarray]:
    x, y = _TO_METRIC.transform(lons, lats)
    geoms = shapely.points(np.column_stack([x, y]))
    _, planar = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    # Every point within the projection's error of the planar nearest is a candidate.
    pairs = tree.query(geoms, predicate="dwithin", distance=planar * _PROJECTION_SLACK + 1.0)
    src, dst = pairs[0], eligible[pairs[1]]
    _, _, metres = WGS84.inv(lons[src], lats[src], network.lons[dst], network.lats[dst])
    order = np.lexsort((metres, src))
    first = order[np.unique(src[order], return_index=True)[1]]
    index = np.full(len(lats), -1, dtype=np.int64)
    km = np.full(len(lats), np.inf)
    index[src[first]], km[src[first]] = dst[first], np.asarray(metres)[first] / 1000.0
    return index, km
