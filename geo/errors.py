"""Domain errors of the geo use cases."""

from __future__ import annotations

from core.errors import InvalidInput
from core.messages import Text


class OutsideHanoi(InvalidInput):
    code = "outside_hanoi"
    title = Text("Vị trí ngoài địa bàn Hà Nội", "Location outside Hanoi")
