"""Measured, not hoped: precision and recall per field on labelled voicemail transcripts.

The labelled set lives in ``extraction/evaluation/``: ``development.yaml`` (the rules were
tuned on it) and ``heldout.yaml`` (never looked at while tuning), each scored on its own,
against the set's own registry of enterprises (``enterprises.yaml``), not the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from extraction.directory import Directory, KnownEnterprise, static_towns
from extraction.extract import Extraction, extract

EVALUATION_DIR = Path(__file__).with_name("evaluation")
PARTS = ("development", "heldout")
# The goals (docs/extraction.md).
GOALS = {"phone_exact": 0.95, "enterprise_registered_precision": 0.9,
         "enterprise_registered_recall": 0.8, "area_top1": 0.85}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def add(self, predicted: str | None, expected: str | None) -> None:
        if predicted is not None and predicted == expected:
            self.tp += 1
            return
        if predicted is not None:
            self.fp += 1
        if expected is not None:
            self.fn += 1

    def as_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)
        return {"precision": r(self.precision), "recall": r(self.recall),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


def load_part(part: str, folder: Path = EVALUATION_DIR) -> list[dict[str, Any]]:
    data = yaml.safe_load((folder / f"{part}.yaml").read_text(encoding="utf-8"))
    return list(data["voicemails"])


def evaluation_directory(folder: Path = EVALUATION_DIR) -> Directory:
    data = yaml.safe_load((folder / "enterprises.yaml").read_text(encoding="utf-8"))
    enterprises = [KnownEnterprise(i, e["name"], e.get("town"), e.get("uscc"))
                   for i, e in enumerate(data["enterprises"], start=1)]
    return Directory(enterprises, static_towns())


def _value(extraction: Extraction, name: str, key: str = "value") -> Any:
    found = getattr(extraction, name)
    if found is None:
        return None
    return found.extra.get(key) if key != "value" else found.value


def score(items: Iterable[Mapping[str, Any]], directory: Directory) -> dict[str, Any]:
    """Scores of ``extract`` over labelled ``items``, and the misses, by field."""
    fields = {name: Score() for name in ("enterprise", "enterprise_registered",
                                         "enterprise_new", "contact", "phones", "uscc",
                                         "subarea", "town")}
    area_right = phone_exact = total = 0
    misses: list[dict[str, Any]] = []
    started = time.perf_counter()
    for item in items:
        total += 1
        got = extract(item["text"], directory)
        label = item.get("enterprise") or {}
        expected_name = label.get("name")
        predicted = got.enterprise
        fields["enterprise"].add(predicted.value if predicted else None, expected_name)
        registered = bool(label.get("registered"))
        claims = predicted is not None and bool(predicted.extra.get("registered"))
        fields["enterprise_registered"].add(predicted.value if claims else None,  # type: ignore[union-attr]
                                            expected_name if registered else None)
        fields["enterprise_new"].add(predicted.value if predicted and not claims else None,
                                     expected_name if expected_name and not registered else None)
        fields["contact"].add(got.contact.value if got.contact else None, item.get("contact"))
        predicted_phones = {p.value for p in got.phones}
        expected_phones = set(item.get("phones") or [])
        for phone in predicted_phones | expected_phones:
            fields["phones"].add(phone if phone in predicted_phones else None,
                                 phone if phone in expected_phones else None)
        phone_exact += predicted_phones == expected_phones
        fields["uscc"].add(got.uscc.value if got.uscc else None, item.get("uscc"))
        area = _value(got, "area", "code")
        area_right += area == item.get("area")
        fields["subarea"].add(_value(got, "subarea", "code"), item.get("subarea"))
        fields["town"].add(got.town.value if got.town else None, item.get("town"))
        wrong = {name: {"got": g, "want": w} for name, g, w in (
            ("enterprise", predicted.value if predicted else None, expected_name),
            ("contact", got.contact.value if got.contact else None, item.get("contact")),
            ("phones", sorted(predicted_phones), sorted(expected_phones)),
            ("uscc", got.uscc.value if got.uscc else None, item.get("uscc")),
            ("area", area, item.get("area")),
            ("subarea", _value(got, "subarea", "code"), item.get("subarea")),
            ("town", got.town.value if got.town else None, item.get("town"))) if g != w}
        if wrong:
            misses.append({"id": item["id"], **wrong})
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {name: s.as_dict() for name, s in fields.items()}
    result.update({
        "voicemails": total,
        "phone_exact": round(phone_exact / total, 3) if total else None,
        "area_top1": round(area_right / total, 3) if total else None,
        "seconds": round(seconds, 3),
        "ms_per_voicemail": round(1000 * seconds / total, 2) if total else None,
    })
    reg = fields["enterprise_registered"]
    result["goals"] = {
        "phone_exact": (result["phone_exact"] or 0) >= GOALS["phone_exact"],
        "enterprise_registered": (reg.precision or 0) >= GOALS["enterprise_registered_precision"]
        and (reg.recall or 0) >= GOALS["enterprise_registered_recall"],
        "area_top1": (result["area_top1"] or 0) >= GOALS["area_top1"],
    }
    result["misses"] = misses
    return result


def evaluate(parts: Iterable[str] = PARTS, folder: Path = EVALUATION_DIR) -> dict[str, Any]:
    directory = evaluation_directory(folder)
    return {part: score(load_part(part, folder), directory) for part in parts}
