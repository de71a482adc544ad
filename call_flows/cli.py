"""``flask flows ...``: validate the call flows and draw them."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from call_flows.flow import FlowError, load_flow_file, load_flows
from call_flows.mermaid import to_mermaid
from call_flows.validator import missing_flows, validate_flow

flows_cli = AppGroup("flows", help="呼叫流程：校验与图示。")


@flows_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def flows_check_command(paths: tuple[Path, ...]) -> None:
    """Validate the installed flows, or the flow files PATHS before deploying them."""
    registry = current_app.extensions["ivr_runtime"].engine.hooks
    try:
        flows = (
            {path.stem: load_flow_file(path) for path in paths} if paths else load_flows()
        )
    except FlowError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    missing = [] if paths else missing_flows(flows)
    for problem in missing:
        click.echo(str(problem), err=True)
    errors = len(missing)
    for flow in flows.values():
        problems = validate_flow(flow, registry)
        for problem in problems:
            click.echo(str(problem), err=True)
        errors += sum(p.severity == "error" for p in problems)
        if not problems:
            click.echo(f"{flow.name}: ok ({len(flow.nodes)} nodes)")
    sys.exit(1 if errors else 0)


@flows_cli.command("show")
@click.argument("name")
def flows_show_command(name: str) -> None:
    """Print flow NAME as a Mermaid diagram."""
    flows = load_flows()
    if name not in flows:
        raise click.BadParameter(f"no flow {name!r}; known: {', '.join(sorted(flows))}")
    click.echo(to_mermaid(flows[name]), nl=False)
