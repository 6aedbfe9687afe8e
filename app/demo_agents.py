"""Demo agent points: the post offices, tablets and online channels the demo organisations take dossiers at,
each with its agent user (and where the demo month places the citizens it serves)."""

from __future__ import annotations

from dataclasses import dataclass

from core import accounts
from core.models import AgentPointKind, Organisation
from core.roles import Role

K = AgentPointKind


@dataclass(frozen=True)
class DemoAgentPoint:
    organisation: str
    code: str
    name: str
    kind: AgentPointKind
    address: str
    lat: float  # where its citizens come from (a tablet: the commune it tours; online: unused)
    lon: float
    email: str  # the point's agent user
    agent_name: str
    weight: float  # its share of the demo month's dossiers


# The post offices are real Hanoi post offices (Bưu điện TP Hà Nội, Viettel Post); coordinates approximate.
AGENT_POINTS = [
    DemoAgentPoint("VNPOST-HN", "VNPOST-HN-HOANKIEM", "Bưu điện Hoàn Kiếm", K.POST_OFFICE,
                   "75 Đinh Tiên Hoàng, phường Hoàn Kiếm, Hà Nội", 21.0259, 105.8537,
                   "daily.buudien@demo.hanoi.vn", "Nguyễn Thị Lan", 1.6),
    DemoAgentPoint("VNPOST-HN", "VNPOST-HN-CAUGIAY", "Bưu điện Cầu Giấy", K.POST_OFFICE,
                   "8 Trần Đăng Ninh, phường Cầu Giấy, Hà Nội", 21.0363, 105.7936,
                   "daily.caugiay@demo.hanoi.vn", "Đỗ Thị Hồng", 1.3),
    DemoAgentPoint("VNPOST-HN", "VNPOST-HN-HADONG", "Bưu điện Hà Đông", K.POST_OFFICE,
                   "4 Quang Trung, phường Hà Đông, Hà Nội", 20.9714, 105.7788,
                   "daily.hadong@demo.hanoi.vn", "Vũ Văn Nam", 1.2),
    DemoAgentPoint("VNPOST-HN", "VNPOST-HN-LONGBIEN", "Bưu điện Long Biên", K.POST_OFFICE,
                   "1 Nguyễn Văn Cừ, phường Bồ Đề, Hà Nội", 21.0440, 105.8760,
                   "daily.longbien@demo.hanoi.vn", "Ngô Thị Mai", 1.0),
    DemoAgentPoint("VNPOST-HN", "VNPOST-HN-TAB-SOCSON", "Máy tính bảng lưu động – xã Sóc Sơn", K.TABLET,
                   "Bưu điện Sóc Sơn, xã Sóc Sơn, Hà Nội", 21.2560, 105.8490,
                   "daily.socson@demo.hanoi.vn", "Phan Văn Đức", 0.5),
    DemoAgentPoint("VNPOST-HN", "VNPOST-HN-TAB-BAVI", "Máy tính bảng lưu động – xã Ba Vì", K.TABLET,
                   "Bưu điện Ba Vì, xã Quảng Oai, Hà Nội", 21.1990, 105.4280,
                   "daily.bavi@demo.hanoi.vn", "Bùi Thị Thu", 0.4),
    DemoAgentPoint("VIETTELPOST-HN", "VTP-HN-THANHXUAN", "Bưu cục Viettel Post Thanh Xuân", K.POST_OFFICE,
                   "285 Nguyễn Trãi, phường Thanh Xuân, Hà Nội", 20.9955, 105.8077,
                   "daily.vtp.thanhxuan@demo.hanoi.vn", "Đặng Quốc Bảo", 1.0),
    DemoAgentPoint("VIETTELPOST-HN", "VTP-HN-DONGDA", "Bưu cục Viettel Post Đống Đa", K.POST_OFFICE,
                   "102 Tây Sơn, phường Đống Đa, Hà Nội", 21.0085, 105.8238,
                   "daily.vtp.dongda@demo.hanoi.vn", "Lý Thị Ngọc", 0.9),
    DemoAgentPoint("VIETTELPOST-HN", "VTP-HN-TAB-GIALAM", "Máy tính bảng Viettel Post – xã Gia Lâm", K.TABLET,
                   "Bưu cục Viettel Post Trâu Quỳ, xã Gia Lâm, Hà Nội", 21.0150, 105.9360,
                   "daily.vtp.gialam@demo.hanoi.vn", "Trịnh Văn Hải", 0.5),
    DemoAgentPoint("HNTECH", "HNTECH-ONLINE", "Ứng dụng HNTECH Dịch vụ công (trực tuyến)", K.ONLINE,
                   "Kênh trực tuyến: ứng dụng và cổng web của HNTECH", 21.0285, 105.8542,
                   "daily.congnghe@demo.hanoi.vn", "Trần Văn Minh", 1.4),
    DemoAgentPoint("HNTECH", "HNTECH-TAB-HOANGMAI", "Máy tính bảng HNTECH – phường Hoàng Mai", K.TABLET,
                   "Nhà văn hóa phường Hoàng Mai, Hà Nội", 20.9760, 105.8630,
                   "daily.hntech.hoangmai@demo.hanoi.vn", "Hoàng Thị Yến", 0.6),
    DemoAgentPoint("HNTECH", "HNTECH-TAB-DONGANH", "Máy tính bảng HNTECH – xã Đông Anh", K.TABLET,
                   "Nhà văn hóa xã Đông Anh, Hà Nội", 21.1370, 105.8450,
                   "daily.hntech.donganh@demo.hanoi.vn", "Cao Văn Tùng", 0.5),
    DemoAgentPoint("DIGIGOV", "DIGIGOV-ONLINE", "Cổng dịch vụ công trực tuyến DigiGov", K.ONLINE,
                   "Kênh trực tuyến: cổng web và ứng dụng DigiGov", 21.0285, 105.8542,
                   "daily.digigov@demo.hanoi.vn", "Mai Thị Phương", 1.0),
    DemoAgentPoint("DIGIGOV", "DIGIGOV-TAB-TAYHO", "Máy tính bảng DigiGov – phường Tây Hồ", K.TABLET,
                   "Nhà văn hóa phường Tây Hồ, Hà Nội", 21.0680, 105.8180,
                   "daily.digigov.tayho@demo.hanoi.vn", "Kiều Văn Long", 0.5),
]


def ensure_agent_points(orgs: dict[str, Organisation], password: str) -> dict[str, int]:
    """Every demo agent point and its agent user (in the caller's transaction); code → point id."""
    ids = {}
    for spec in AGENT_POINTS:
        org = orgs[spec.organisation]
        point = accounts.ensure_agent_point(org, spec.code, spec.name, spec.kind, spec.address)
        accounts.ensure_user(spec.email, spec.agent_name, Role.AGENT, password, org, agent_point_id=point.id)
        ids[spec.code] = point.id
    return ids
