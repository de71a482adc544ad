"""``flask speech extract TEXT`` and ``flask speech evaluate``: what the extractor suggests,
and how well it does on the labelled voicemails."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from core.db import db
from extraction.directory import Directory, load_directory, static_towns
from extraction.evaluate import GOALS, PARTS, evaluate
from extraction.extract import FIELDS, extract


@click.group("speech", help="从留言文本提取诉求字段 / case fields from what callers said.")
def speech_cli() -> None:
    pass


def _directory() -> Directory:
    try:
        with db.transaction() as session:
            return load_directory(session)
    except Exception:  # an unmigrated database: towns only, no registered enterprises
        return Directory([], static_towns())


@speech_cli.command("extract")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@with_appcontext
def extract_command(text: str, as_json: bool) -> None:
    """What would be suggested for TEXT (registered enterprises from the database)."""
    result = extract(text, _directory()).as_dict()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    for name in FIELDS:
        found = result[name]
        items = found if isinstance(found, list) else [found] if found else []
        if not items:
            click.echo(f"{name:<10} —")
        for item in items:
            words = "、".join(e["text"] for e in item["evidence"])
            click.echo(f"{name:<10} {item['value']}  ({item['confidence']:.2f}; {words})")


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


@speech_cli.command("evaluate")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--part", type=click.Choice([*PARTS, "all"]), default="all", show_default=True)
@click.option("--misses", is_flag=True, help="List every voicemail with a wrong field.")
def evaluate_command(as_json: bool, part: str, misses: bool) -> None:
    """Precision and recall per field on the labelled voicemails (development and held-out
    parts reported apart); exit 1 if a goal is missed."""
    parts = PARTS if part == "all" else (part,)
    results = evaluate(parts)
    if not misses:
        for result in results.values():
            result.pop("misses")
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))
    else:
        for name, result in results.items():
            click.echo(f"== {name}: {result['voicemails']} voicemails, "
                       f"{result['seconds']:.2f} s ({result['ms_per_voicemail']} ms each)")
            for field in ("enterprise_registered", "enterprise_new", "enterprise", "contact",
                          "phones", "uscc", "subarea", "town"):
                score = result[field]
                click.echo(f"  {field:<22} precision {_rate(score['precision'])}  "
                           f"recall {_rate(score['recall'])}")
            click.echo(f"  phone_exact            {_rate(result['phone_exact'])}"
                       f"  (goal {GOALS['phone_exact']})")
            click.echo(f"  area_top1              {_rate(result['area_top1'])}"
                       f"  (goal {GOALS['area_top1']})")
            for miss in result.get("misses", []):
                click.echo(f"  ✗ {json.dumps(miss, ensure_ascii=False)}")
    if not all(all(r["goals"].values()) for r in results.values()):
        sys.exit(1)
