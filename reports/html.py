"""The conformance report as one self-contained HTML page, rendered from the summary dict.

Inline CSS only: no scripts, fonts, images or other external assets, so the page reads the same from a
mail attachment, an archive or a browser with JavaScript off. Every value is escaped (the DUT chose many of
them: its model string, its answers in failure observations) and control characters are shown as escapes,
so a DUT cannot inject markup or hide text.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

VERDICT_LABELS = {
    "passed": "PASSED",
    "failed": "FAILED",
    "error": "ERROR",
    "not_applicable": "NOT APPLICABLE",
    "blocked": "BLOCKED",
}

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1a1a1a; margin: 2em auto; max-width: 1200px; padding: 0 1em; }
h1 { font-size: 1.6em; margin: 0 0 .3em; } h2 { font-size: 1.2em; margin: 1.6em 0 .4em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; margin: .3em 0; }
th, td { border: 1px solid #d0d0d0; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } table.kv th { width: 14em; }
.banner { padding: .8em 1em; margin: .6em 0; font-weight: bold; font-size: 1.15em; border: 3px solid; }
.incomplete { background: #fff3cd; border-color: #b8860b; color: #6b4e00; }
.revealed { background: #fde2e1; border-color: #b00020; color: #7a0016; }
.overall { font-size: 1.5em; }
.CONFORMANT { background: #e3f4e4; border-color: #2e7d32; color: #1b5e20; }
.NOT-CONFORMANT { background: #fde2e1; border-color: #b00020; color: #7a0016; }
.INCONCLUSIVE { background: #fff3cd; border-color: #b8860b; color: #6b4e00; }
.v { font-weight: bold; white-space: nowrap; }
.v-passed { color: #1b5e20; } .v-failed { color: #b00020; } .v-error { color: #8a4b00; }
.v-not_applicable { color: #666; } .v-blocked { color: #5b3a8c; }
.msg dt { font-weight: bold; } .msg dd { margin: 0 0 .3em 1em; white-space: pre-wrap; font-family: monospace; }
.mono { font-family: monospace; } .case-id { white-space: nowrap; } .missing { color: #b00020; } .small { color: #555; font-size: .9em; }
/* The case table fits the page: fixed column widths, and long tokens (hex, event logs, paths) wrap anywhere. */
#cases { table-layout: fixed; } #cases td { overflow-wrap: anywhere; }
#cases col.id { width: 10em; } #cases col.title { width: 20%; } #cases col.area { width: 9.5em; }
#cases col.mandatory { width: 6.5em; } #cases col.verdict { width: 11em; } #cases col.duration { width: 5.5em; }
@media print { details { display: block; } }
.bench { font-size: 1em; } .bench-simulated { background: #e8f0fe; border-color: #1a56b0; color: #0d3a80; }
.bench-emulated { background: #f1e8fd; border-color: #5b3a8c; color: #3d2463; }
.bench-hardware { background: #eef5ee; border-color: #2e7d32; color: #1b5e20; }
#attention ul { margin: .2em 0; } #attention li { margin: .15em 0; }
dl.options { margin: 0; display: grid; grid-template-columns: max-content auto; gap: .1em 1em; }
dl.options dt { font-weight: bold; } dl.options dd { margin: 0; font-family: monospace; overflow-wrap: anywhere; }
"""


def _text(value: Any) -> str:
    """Escaped text; control and bidi characters are made visible instead of acting on the layout."""
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
    value = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    return html.escape(value, quote=True)


def _verdict(verdict: str) -> str:
    css = verdict if verdict in VERDICT_LABELS else "unknown"
    return f'<span class="v v-{css}">{_text(VERDICT_LABELS.get(verdict, verdict))}</span>'


class _Markup(str):
    """HTML this module built from escaped parts: put into a table as is."""


def _kv_table(rows: list[tuple[str, Any]], empty: str = "") -> str:
    body = "".join(
        f"<tr><th>{_text(k)}</th><td>"
        f"{v if isinstance(v, _Markup) else _text(v) if v not in ('', None) else _text(empty)}</td></tr>"
        for k, v in rows
    )
    return f'<table class="kv">{body}</table>'


def _duration(seconds: Any) -> str:
    try:
        return f"{float(seconds):.2f} s"
    except (TypeError, ValueError):
        return _text(seconds)


def _details(case: dict[str, Any]) -> str:
    parts: list[str] = []
    message = case.get("message") or {}
    fields = [
        (label, message.get(key))
        for label, key in (("Expected", "expectation"), ("Observed", "observation"), ("Rule", "rule"),
                           ("Message", "text"))
        if message.get(key)
    ]
    if fields:
        items = "".join(f"<dt>{_text(label)}</dt><dd>{_text(value)}</dd>" for label, value in fields)
        parts.append(f'<dl class="msg">{items}</dl>')
    attachments = case.get("attachments") or []
    if attachments:
        links = []
        for item in attachments:
            path = str(item.get("path", ""))
            if item.get("exists"):
                links.append(f'<a href="{_text(quote(path))}">{_text(path)}</a>')
            else:
                links.append(f'<span class="missing">{_text(path)} (missing)</span>')
        parts.append(f"<div>Attachments: {', '.join(links)}</div>")
    bench_errors = case.get("bench_errors") or []
    if bench_errors:
        items = "".join(
            f"<li>attempt {_text(e.get('attempt'))}: {_text(e.get('error'))}</li>" for e in bench_errors
        )
        parts.append(f'<div class="small">Bench errors retried:<ul>{items}</ul></div>')
    steps = case.get("steps") or []
    if steps:
        items = "".join(
            f"<li>{_text(s.get('keyword'))} {_text(s.get('text'))} "
            f"<span class=\"small\">[{_text(s.get('outcome'))}]</span></li>"
            for s in steps
        )
        is_open = " open" if case.get("verdict") in ("failed", "error", "blocked") else ""
        parts.append(f"<details{is_open}><summary>Steps ({len(steps)})</summary><ol>{items}</ol></details>")
    return "".join(parts)


def _cases_table(cases: list[dict[str, Any]]) -> str:
    head = (
        "<tr><th>Case</th><th>Title</th><th>Area</th><th>Mandatory</th><th>Verdict</th>"
        "<th>Duration</th><th>Details</th></tr>"
    )
    rows = []
    for case in cases:
        case_id = case.get("case_id") or case.get("nodeid")
        pics = ", ".join(str(p) for p in case.get("pics") or [])
        rows.append(
            f'<tr class="case" id="{_text(_anchor(case))}">'
            f'<td class="mono case-id">{_text(case_id)}</td>'
            f"<td>{_text(case.get('title'))}"
            + (f'<div class="small mono">PICS: {_text(pics)}</div>' if pics else "")
            + f"</td><td>{_text(str(case.get('area') or '').replace('_', ' '))}</td>"
            f"<td>{'yes' if case.get('mandatory') else 'no'}</td>"
            f'<td class="verdict">{_verdict(str(case.get("verdict")))}</td>'
            f"<td>{_duration(case.get('duration_s'))}</td>"
            f"<td>{_details(case)}</td></tr>"
        )
    columns = "".join(f'<col class="{name}">' for name in
                      ("id", "title", "area", "mandatory", "verdict", "duration", "details"))
    return f'<table id="cases"><colgroup>{columns}</colgroup>{head}{"".join(rows)}</table>'


def _anchor(case: dict[str, Any]) -> str:
    return "case-" + re.sub(r"[^A-Za-z0-9._-]", "_", str(case.get("case_id") or case.get("nodeid")))


def _option_value(value: Any) -> str:
    if value in (None, "", [], {}):
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_option_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_option_value(v)}" for k, v in value.items())
    return str(value)


def _options(options: Any) -> _Markup:
    """The run's options as a definition list a reader can scan (not a JSON dump)."""
    if not isinstance(options, dict) or not options:
        return _Markup(_text("none"))
    items = "".join(f"<dt>{_text(str(key).replace('_', ' '))}</dt><dd>{_text(_option_value(value))}</dd>"
                    for key, value in options.items())
    return _Markup(f'<dl class="options">{items}</dl>')


_BENCH_BANNERS = {
    "simulated": "SIMULATED BENCH: the golden radio and the DUT ran on the simulated Zigbee network, in virtual "
                 "time. No radio was involved.",
    "emulated": "EMULATED BENCH: the golden radio was bellows on the EZSP NCP emulator (python -m harness.emulator "
                "ncp), over a simulated air. No radio hardware was involved.",
    "hardware": "HARDWARE BENCH: the golden radio was a real EZSP radio ({radio}; {firmware}).",
}


def _bench_banner(bench: dict[str, Any]) -> str:
    kind = str(bench.get("kind") or ("simulated" if bench.get("simulated") else "hardware"))
    text = _BENCH_BANNERS.get(kind, _BENCH_BANNERS["hardware"]).format(
        radio=bench.get("radio") or "radio unknown",
        firmware=bench.get("radio_firmware") or "firmware not recorded")
    return f'<div class="banner bench bench-{_text(kind)}" id="bench-kind">{_text(text)}</div>'


#: The cases a reader must look at, worst first, as the failures summary lists them.
_ATTENTION = ("failed", "error", "blocked")


def _reason(case: dict[str, Any]) -> str:
    message = case.get("message") or {}
    if message.get("expectation") or message.get("observation"):
        return f"expected {message.get('expectation', '')}; observed {message.get('observation', '')}"
    lines = [line.strip() for line in str(message.get("text") or "").splitlines() if line.strip()]
    raised = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (raised or lines or [""])[0][:300]


def _attention(cases: list[dict[str, Any]]) -> str:
    """The failures summary at the top: every failed, error and blocked case, linked to its row."""
    rows = [c for verdict in _ATTENTION for c in cases if c.get("verdict") == verdict]
    if not rows:
        return '<div id="attention"><p>No case failed, errored or was blocked.</p></div>'
    items = "".join(
        f'<li>{_verdict(str(c.get("verdict")))} <a class="mono" href="#{_text(_anchor(c))}">'
        f'{_text(c.get("case_id") or c.get("nodeid"))}</a> {_text(c.get("title"))}'
        + (f' <span class="small">— {_text(_reason(c))}</span>' if _reason(c) else "") + "</li>"
        for c in rows
    )
    counts = ", ".join(f"{sum(c.get('verdict') == v for c in rows)} {VERDICT_LABELS[v].lower()}"
                       for v in _ATTENTION if any(c.get("verdict") == v for c in rows))
    return f'<div id="attention"><h2>Needs attention ({_text(counts)})</h2><ul>{items}</ul></div>'


def _scope(scope: dict[str, Any] | None) -> str:
    """What part of the suite the verdict covers: a reader must see a selection before trusting a verdict."""
    if not scope:
        return ""
    if scope.get("complete"):
        return (f'<p id="scope" class="small">Scope: the complete suite, every one of the '
                f"{_text(scope.get('applicable'))} case(s) applicable to the profile's claims, on its own PICS "
                "and PIXITs.</p>")
    rows = [("Selection", "; ".join(scope.get("selection") or []) or "none"),
            ("Overrides of the profile", "; ".join(scope.get("overrides") or []) or "none"),
            ("Applicable cases that did not run",
             f"{len(scope.get('not_run') or [])} of {scope.get('applicable')}: "
             + ", ".join(scope.get("not_run") or []))]
    return '<h2 id="scope">Scope: PARTIAL run</h2>' + _kv_table(rows)


def _identity(identity: dict[str, Any] | None) -> str:
    """The DUT as its profile declares it and as it answered on the air (Basic cluster), side by side."""
    if not identity:
        return ""
    declared, observed = identity.get("declared") or {}, identity.get("observed")
    fields = (("manufacturer", "Manufacturer"), ("model", "Model"), ("firmware", "Firmware"),
              ("date_code", "Date code"))
    head = "<tr><th></th><th>Declared (profile)</th><th>Observed (Basic, on the air)</th></tr>"
    body = "".join(
        f"<tr><th>{label}</th><td>{_text(declared.get(key) or '')}</td>"
        f"<td>{_text((observed or {}).get(key) or ('not read' if observed is None else 'not served'))}</td></tr>"
        for key, label in fields)
    problems = "".join(f"<li>{_text(p)}</li>" for p in identity.get("mismatches") or [])
    note = f'<ul class="small">{problems}</ul>' if problems else ""
    return f'<table id="identity">{head}{body}</table>{note}'


def render_html(summary: dict[str, Any]) -> str:
    """The report page for a summary dict (reports.summary.build_summary)."""
    dut, bench = summary.get("dut", {}), summary.get("bench", {})
    overall = summary.get("overall", {})
    verdict = str(overall.get("verdict", "INCONCLUSIVE"))
    totals = summary.get("totals", {})
    complete = bool(summary.get("complete"))
    title = f"SE conformance report: {dut.get('model') or 'unknown DUT'}: {verdict}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(title)}</title><style>{_CSS}</style></head><body>",
        "<h1>ZigBee Smart Energy conformance report</h1>",
    ]
    if not complete:
        cases = len(summary.get("cases", []))
        out.append(
            '<div class="banner incomplete" id="incomplete">INCOMPLETE: the run stopped before its end '
            f"(no completion line in its journal). This report covers the {cases} case(s) it finished.</div>"
        )
    if summary.get("secrets_revealed"):
        out.append(
            '<div class="banner revealed" id="secrets-revealed">SECRETS REVEALED: this run was made with '
            "--reveal-secrets; keys and install codes are shown unredacted. Do not distribute.</div>"
        )
    reasons = "".join(f"<li>{_text(r)}</li>" for r in overall.get("reasons", []))
    out.append(
        f'<div class="banner overall {_text(verdict.replace(" ", "-"))}" id="overall">'
        f"Overall verdict: {_text(verdict)}<ul class=\"small\">{reasons}</ul></div>"
    )
    out.append(_bench_banner(bench))
    out.append(_attention(summary.get("cases", [])))
    out.append(_scope(summary.get("scope")))
    out.append("<h2>Device under test</h2>")
    out.append(_kv_table([
        ("Manufacturer", dut.get("manufacturer")),
        ("Model", dut.get("model")),
        ("Firmware", dut.get("firmware")),
        ("Date code", dut.get("date_code")),
        ("IEEE address", dut.get("ieee")),
        ("Device type", dut.get("device_type")),
        ("DUT profile", dut.get("profile")),
    ], empty="(not reported)"))
    out.append(_identity(summary.get("identity")))
    kind = bench.get("kind") or ("simulated" if bench.get("simulated") else "physical")
    out.append("<h2>Test run</h2>")
    out.append(_kv_table([
        ("Suite version", summary.get("suite_version")),
        ("Bench", bench.get("id")),
        ("Golden radio", f"{bench.get('radio') or ''} ({kind})"),
        ("Radio firmware", bench.get("radio_firmware")),
        ("Started (UTC)", summary.get("started")),
        ("Finished (UTC)", summary.get("finished") or "not finished"),
        ("Host", summary.get("host")),
        ("Options", _options(summary.get("options"))),
        ("Seed", "not recorded" if summary.get("seed") is None else
         f"{summary['seed']} (--seed {summary['seed']} replays the run's random choices)"),
        ("PICS SHA-256", summary.get("pics_hash")),
        ("Report generated (UTC)", summary.get("generated")),
    ]))
    # Who signs, and the journal's chain head: what a reader compares with `reports verify` and the lab's key.
    integrity = summary.get("integrity") or {}
    out.append('<h2 id="integrity">Integrity</h2>')
    out.append(_kv_table([
        ("Report signed by", integrity.get("signer") or "unsigned"),
        ("Journal signed at the source by", integrity.get("journal_signer") or "unsigned"),
        ("Journal chain", integrity.get("chain_state") or integrity.get("chain") or "unknown"),
        ("Chain head", integrity.get("chain_head")),
    ], empty="(none)"))
    out.append("<h2>Totals</h2>")
    labels = [(key, VERDICT_LABELS[key]) for key in VERDICT_LABELS]
    out.append(
        '<table id="totals"><tr>' + "".join(f"<th>{_text(label)}</th>" for _, label in labels)
        + "<th>Total</th></tr><tr>"
        + "".join(f"<td>{_text(totals.get(key, 0))}</td>" for key, _ in labels)
        + f"<td>{_text(totals.get('total', 0))}</td></tr></table>"
    )
    out.append("<h2>Cases</h2>")
    out.append(_cases_table(summary.get("cases", [])))
    out.append("<h2>PICS</h2>")
    out.append(_kv_table(sorted(summary.get("pics", {}).items())) if summary.get("pics") else "<p>none</p>")
    out.append("<h2>PIXIT</h2>")
    out.append(_kv_table(sorted(summary.get("pixit", {}).items())) if summary.get("pixit") else "<p>none</p>")
    # Inside their bounds, but more lenient than the defaults: a reader weighs the verdict with these in view.
    out.append('<h2 id="widened">PIXITs that widen a check</h2>')
    widened = summary.get("widened") or {}
    out.append(_kv_table(sorted(widened.items())) if widened else "<p>none: every check ran at least as strict "
               "as its default</p>")
    out.append(
        '<p class="small">Integrity: <span class="mono">python -m reports verify DIR --public-key LAB.pub</span> '
        "checks every file of this run against MANIFEST.json, the journal's chain, and that the signature is "
        "the lab's; without a pinned key it proves integrity only, not who signed.</p>"
    )
    out.append("</body></html>")
    return "\n".join(out)
