"""``flask geo coverage``: coverage of Hà Nội by the network, with a progress bar, and what-ifs."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from dossiers import service as dossiers
from geo.coverage import DEFAULT_CELL_M, DEFAULT_LEVEL, DEFAULT_TIERS, CoverageResult, compare
from geo.coverage_service import MAX_CANDIDATES, TIERS, candidates_from, coverage
from geo.models import Tier
from geo.points_import import LEVELS, TIER_DEFAULTS
from geo.territory import in_vietnam

geo_cli = AppGroup("geo", help="Điểm phục vụ: độ phủ mạng lưới. / Service points: network coverage.")


def _tiers(ctx, param, value: str) -> tuple[str, ...]:
    tiers = tuple(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
    bad = [t for t in tiers if t not in TIERS]
    if not tiers or bad:
        raise click.BadParameter(f"phải là danh sách trong {', '.join(TIERS)} / must be a list of {', '.join(TIERS)}")
    return tiers


def _candidate(value: str) -> dict:
    parts = [p.strip() for p in value.split(",", 2)]
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except (ValueError, IndexError):
        raise click.BadParameter(f"{value!r}: cần \"vĩ độ,kinh độ,tên\" / expected \"lat,lon,name\"") from None
    if not in_vietnam(lat, lon):
        raise click.BadParameter(f"{value!r}: vị trí không ở Việt Nam / the location is not in Vietnam")
    return {"lat": lat, "lon": lon, "name": parts[2] if len(parts) > 2 and parts[2] else None}


class _Bar:
    """A click progress bar opened on the first report, when the number of cells is known."""

    def __init__(self, label: str):
        self.label, self.bar, self.done = label, None, 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, file=click.get_text_stream("stderr"))
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _run(label: str, **kwargs) -> CoverageResult:
    bar = _Bar(label)
    try:
        return coverage(progress=bar, **kwargs)
    finally:
        bar.close()


def _num(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _print_summary(result: CoverageResult) -> None:
    s = result.summary()
    rule = s["rule"]
    click.echo(f"Cấp {s['level']}, loại điểm {','.join(s['tiers'])}, lưới {s['cell_m']:g} m, {s['points']} điểm "
               f"/ level {s['level']}, tiers {','.join(s['tiers'])}, {s['cell_m']:g} m grid, {s['points']} points")
    click.echo(f"  Quy tắc / rule: ≤ {rule['max_km']:g} km hoặc/or ≤ {rule['max_minutes']:g} phút/min "
               f"({s['travel']['speed_kmh']:g} km/h × {s['travel']['circuity']:g})")
    click.echo(f"  Ô lưới / cells: {s['cells']:,} ({_num(s['km2_total'])} km²)")
    click.echo(f"  Trong quy tắc / within the rule: {s['share_within']:.1%} — {_num(s['km2_within'])} km²")
    click.echo(f"  Ngoài quy tắc / outside the rule: {_num(s['km2_outside'])} km² "
               f"trong/in {s['gaps']} vùng trống/gaps")
    click.echo(f"  Trung tâm xã/phường ngoài quy tắc / commune centres outside: "
               f"{s['communes_outside']} / {s['communes']}")
    worst = result.worst_communes(5)
    if worst:
        click.echo("  5 xã/phường xa nhất / 5 farthest communes:")
        for c in worst:
            mark = "trong/within" if c.within else "NGOÀI/OUTSIDE"
            near = f"{c.point.code} {_num(c.distance_km)} km, {c.minutes:.0f} phút/min" if c.point else "—"
            click.echo(f"    {c.place.name} ({c.place.code}) → {near} [{mark}]")
    click.echo(f"  Thời gian tính / computed in {s['seconds']:.2f} s")


def _print_dossier_outcomes(outcomes: dict) -> None:
    click.echo(f"  Hồ sơ {outcomes['days']} ngày qua / dossiers in the last {outcomes['days']} days: "
               f"{outcomes['dossiers']:,}, ngoài bán kính phục vụ / outside the service radius: "
               f"{outcomes['outside_service_radius']:,}")
    for row in [r for r in outcomes["by_point"] if r["outside_service_radius"]][:5]:
        click.echo(f"    {row['service_point_code']}: {row['outside_service_radius']:,} / {row['dossiers']:,}")


def _print_compare(diff: dict) -> None:
    click.echo("So sánh / comparison:")
    click.echo(f"  Tỷ lệ trong quy tắc / share within: {diff['share_within_before']:.1%} → "
               f"{diff['share_within_after']:.1%} ({diff['share_change'] * 100:+.1f} điểm %/points)")
    click.echo(f"  Diện tích mới được phủ / newly covered: {_num(diff['km2_newly_covered'])} km²; "
               f"vùng trống / gaps {diff['gaps_before']} → {diff['gaps_after']}")
    click.echo(f"  Xã/phường trong quy tắc / communes within: {diff['communes_within_before']} → "
               f"{diff['communes_within_after']}")
    for c in diff["communes_newly_within"]:
        click.echo(f"    + {c['name']} ({c['unit_code']}): {c['distance_km_before']} → {c['distance_km']} km "
                   f"({c['nearest_code']})")
    for c in diff["candidates"]:
        click.echo(f"  {c['code']} {c['name']}: vùng phục vụ / catchment {_num(c['catchment_km2'])} km², "
                   f"trong quy tắc / within {_num(c['within_km2'])} km²")


def _write(path: Path | None, text: str) -> None:
    if path is not None:
        path.write_text(text, encoding="utf-8")
        click.echo(f"Đã ghi / written: {path}")


@geo_cli.command("coverage")
@click.option("--cell-m", type=click.IntRange(100, 10_000), default=DEFAULT_CELL_M, show_default=True,
              help="Cạnh ô lưới (m) / grid cell size in metres.")
@click.option("--level", type=click.Choice(LEVELS), default=DEFAULT_LEVEL, show_default=True,
              help="Cấp thủ tục / procedure level the points must receive.")
@click.option("--tiers", default=",".join(DEFAULT_TIERS), show_default=True, callback=_tiers,
              help="Loại điểm được tính, cách nhau bởi dấu phẩy / tiers counted, comma-separated.")
@click.option("--geojson", "geojson_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Ghi GeoJSON / write GeoJSON (gaps, points, communes, outline).")
@click.option("--catchments", is_flag=True, help="GeoJSON: thêm vùng phục vụ từng điểm / add catchment polygons.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Ghi CSV mỗi ô lưới một dòng / write CSV, one row per grid cell.")
@click.option("--communes-csv", "communes_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Ghi CSV mỗi xã/phường một dòng / write CSV, one row per commune.")
@click.option("--add", "adds", multiple=True, metavar='"LAT,LON,NAME"',
              help="Điểm dự kiến (lặp lại được) / a candidate point for a what-if (repeatable).")
@click.option("--add-tier", type=click.Choice(TIERS), default="district_point", show_default=True,
              help="Loại của các điểm dự kiến / tier of the candidate points.")
def coverage_command(cell_m, level, tiers, geojson_path, catchments, csv_path, communes_path, adds, add_tier):
    """Độ phủ Hà Nội theo quy tắc 5 km / 30 phút. / Coverage of Hanoi under the 5 km / 30 minutes rule.

    Với --add, các tệp ghi ra mô tả mạng lưới có thêm điểm dự kiến. / With --add, the files written
    describe the network with the candidate points.
    """
    candidates = [{**_candidate(a), "tier": add_tier} for a in adds]
    if len(candidates) > MAX_CANDIDATES:
        raise click.BadParameter(f"tối đa / at most {MAX_CANDIDATES}", param_hint="--add")
    if candidates and (add_tier not in tiers or level not in TIER_DEFAULTS[Tier(add_tier)]["levels"]):
        raise click.BadParameter(f"{add_tier} không được tính ở cấp {level} với {','.join(tiers)} / "
                                 f"is not counted at level {level} with tiers {','.join(tiers)}",
                                 param_hint="--add-tier")
    before = _run("Tính độ phủ / computing coverage", cell_m=cell_m, level=level, tiers=tiers)
    _print_summary(before)
    _print_dossier_outcomes(dossiers.routing_outcomes())
    result = before
    if candidates:
        click.echo()
        result = _run("Thêm điểm dự kiến / with candidates", cell_m=cell_m, level=level, tiers=tiers,
                      extra_points=candidates_from(candidates))
        click.echo(f"Sau khi thêm {len(candidates)} điểm / after adding {len(candidates)} point(s):")
        _print_summary(result)
        _print_compare(compare(before, result))
    if geojson_path is not None:
        _write(geojson_path, json.dumps(result.to_geojson(catchments=catchments, boundary=True), ensure_ascii=False))
    _write(csv_path, result.cells_csv())
    _write(communes_path, result.communes_csv())
