"""The report a comms officer reads: what blocks the post, why, and what to do instead."""

from __future__ import annotations

from collections.abc import Callable

import typer

from postguard.findings import Finding, Report, Severity, Verdict

HEADINGS = {
    Severity.ERROR: ("Must fix before posting", typer.colors.RED),
    Severity.WARNING: ("Warnings", typer.colors.YELLOW),
    Severity.INFO: ("For information", typer.colors.BLUE),
}
VERDICT_LINES = {
    Verdict.BLOCK: ("BLOCKED: this post must not be published as it is.", typer.colors.RED),
    Verdict.WARN: ("WARN: may be published; review the warnings first.", typer.colors.YELLOW),
    Verdict.PASS: ("PASS: no policy problems found.", typer.colors.GREEN),
}


def _where(finding: Finding, report: Report) -> str:
    loc = finding.location
    if loc.text is not None and loc.field is None and loc.text.line is not None:
        return f"{report.text_path}:{loc.text.line}:{loc.text.column}"
    if loc.field is not None and loc.image is None:
        return loc.field
    if loc.image is not None:
        box = f" face at x={loc.box[0]} y={loc.box[1]} {loc.box[2]}×{loc.box[3]}" if loc.box else ""
        field = f" ({loc.field})" if loc.field else ""
        return f"{loc.image}{box}{field}"
    return report.draft


def _finding_lines(finding: Finding, report: Report) -> list[str]:
    lines = [f"  {finding.category}  {finding.rule}", f"    {_where(finding, report)}"]
    lines.append(f"    {finding.message}")
    if finding.context:
        lines.append(f"    in: “{finding.context}”")
    if finding.explanation:
        lines.append(f"    why: {finding.explanation}")
    lines.append(f"    policy: {finding.clause}")
    if finding.suggestion and not finding.fixed:
        lines.append(f"    suggestion: {finding.suggestion}")
    return lines


def render_text(report: Report, style: Callable[..., str] = typer.style) -> str:
    """Findings grouped by severity, then every face decision, then the verdict line."""
    out = [f"postguard check {report.draft}  (channel: {report.channel})", ""]
    findings = report.sorted_findings()
    groups = [
        (heading, colour, [f for f in findings if f.severity is severity and not f.fixed])
        for severity, (heading, colour) in HEADINGS.items()
    ]
    groups.insert(
        2, ("Fixed in the safe copies", typer.colors.GREEN, [f for f in findings if f.fixed])
    )
    for heading, colour, group in groups:
        if not group:
            continue
        out.append(style(f"{heading} ({len(group)})", fg=colour, bold=True))
        for finding in group:
            out += _finding_lines(finding, report)
        out.append("")
    if report.images:
        out.append(style("Images", bold=True))
        for image in report.images:
            size = f" {image.size[0]}×{image.size[1]}" if image.size else ""
            out.append(f"  {image.path}{size}: {len(image.faces)} face(s)")
            for face in image.faces:
                x, y, w, h = face.box
                out.append(f"    face at x={x} y={y} {w}×{h}: {face.decision} ({face.reason})")
            if image.output:
                out.append(f"    safe copy: {image.output}")
        out.append("")
    if report.outputs_withheld:
        out.append("No safe copies written: part of the post could not be checked.")
    if report.output_dir:
        out.append(f"Safe copies written to {report.output_dir}/")
    line, colour = VERDICT_LINES[report.verdict]
    out.append(style(line, fg=colour, bold=True))
    return "\n".join(out)
