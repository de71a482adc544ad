"""Spoken words for the routing rules' keywords: how callers (and the recogniser) say them.

``routing/rules.yaml`` lists the written words (停电, 贷款 …); a voicemail says "电老是断",
"跳闸", or the recogniser hears "带款". Each entry maps what is said to a keyword of the rules,
so the area is read with the rules the operators' routing uses, not a second set.
"""

from __future__ import annotations

SPOKEN_TERMS: dict[str, str] = {
    "高企": "高新技术",  # 高新技术企业, as everyone says it
    "减免": "减负",
    "取水": "用水",
    "跳闸": "停电",
    "带款": "贷款",  # the recogniser's slip
}
