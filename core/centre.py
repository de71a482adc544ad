"""The centre's name, spelled as the notice 奉政办发〔2021〕35号 spells it, everywhere.

Pages, texts, spoken answers, exports and the API all name the centre with this one
constant (``tests/core/test_centre_name.py`` fails on any other spelling).
"""

from __future__ import annotations

CENTRE_NAME = "奉化区企业“最多跑一地”综合服务中心"
