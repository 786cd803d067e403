"""The drift report as one self-contained HTML page: inline CSS and SVG charts, no script, no
external resource (it opens offline, from a file or the UI's artifact view)."""

from __future__ import annotations

import html
import math
from typing import Any

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.muted{color:#667085}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #d9dee8;border-radius:8px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}.bad{color:#b42318}.good{color:#067647}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaecf0;vertical-align:top}
th{background:#f5f7fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.tag{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.tag.bad{background:#fee4e2}.tag.good{background:#dcfae6}
details{margin:2px 0}summary{cursor:pointer}svg text{font:11px system-ui,sans-serif;fill:#475467}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:middle}
"""
_REF_COLOR = "#98a2b3"
_CUR_COLOR = "#2e6ee6"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—" if value is None else ("inf" if value > 0 else "-inf")
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return _e(value)


def _flag(drifted: bool, yes: str = "drift", no: str = "no drift") -> str:
    return f'<span class="tag {"bad" if drifted else "good"}">{_e(yes if drifted else no)}</span>'


def distribution_svg(dist: dict[str, Any], width: int = 560, height: int = 170) -> str:
    """Grouped bars: reference (grey) and current (blue) share per bin or category."""
    ref = dist.get("reference") or []
    cur = dist.get("current") or []
    if not ref:
        return '<p class="muted">No values to draw.</p>'
    if dist.get("type") == "histogram":
        edges = dist["edges"]
        labels = [f"{edges[i]:.3g}" for i in range(len(ref))]
    else:
        labels = [str(label) for label in dist.get("labels", [])]
    top = max(max(ref), max(cur), 1e-12)
    pad_left, pad_bottom = 36, 36
    plot_w, plot_h = width - pad_left - 6, height - pad_bottom - 8
    slot = plot_w / len(ref)
    bar = max(slot * 0.4, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="distribution">',
        f'<line x1="{pad_left}" y1="{8 + plot_h}" x2="{width - 6}" y2="{8 + plot_h}" stroke="#d0d5dd"/>',
        f'<text x="{pad_left - 4}" y="14" text-anchor="end">{top:.2g}</text>',
        f'<text x="{pad_left - 4}" y="{8 + plot_h}" text-anchor="end">0</text>',
    ]
    every = max(1, math.ceil(len(ref) / 10))
    for i, (r, c) in enumerate(zip(ref, cur, strict=False)):
        x = pad_left + i * slot + slot * 0.1
        for offset, share, color in ((0, r, _REF_COLOR), (bar, c, _CUR_COLOR)):
            h = plot_h * share / top
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{8 + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{_e(labels[i] if i < len(labels) else i)}: '
                f"{share:.3%}</title></rect>"
            )
        if i % every == 0 and i < len(labels):
            parts.append(
                f'<text x="{x + bar:.1f}" y="{height - pad_bottom + 20}" text-anchor="middle">'
                f"{_e(labels[i][:12])}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: dict[str, Any], title: str) -> str:
    drifted = report["dataset_drifted"]
    rows = []
    for c in report["columns"]:
        rows.append(
            "<tr>"
            f"<td>{_e(c['column'])}</td><td>{_e(c['kind'])}</td><td>{_e(c['test_title'])}</td>"
            f'<td class="num">{_num(c["score"])}</td><td class="num">{_num(c["threshold"])}</td>'
            f"<td>{_flag(c['drifted'])}</td>"
            f"<td><details><summary>show</summary>{distribution_svg(c['distribution'])}"
            f"</details></td></tr>"
        )
    quality_rows = []
    for q in report["quality"]["columns"]:
        issues = []
        if q["constant"]:
            issues.append("constant")
        elif q["almost_constant"]:
            issues.append(f"almost constant ({q['most_common_share']:.1%} one value)")
        if q.get("out_of_range_share"):
            issues.append(f"{q['out_of_range_share']:.2%} outside the reference range")
        if q.get("new_category_share"):
            listed = ", ".join(str(v) for v in q["new_categories"][:5])
            issues.append(f"{q['new_category_share']:.2%} new categories ({listed})")
        quality_rows.append(
            f"<tr><td>{_e(q['column'])}</td>"
            f'<td class="num">{q["reference_missing_share"]:.2%}</td>'
            f'<td class="num">{q["missing_share"]:.2%}</td>'
            f"<td>{_e('; '.join(issues) or 'ok')}</td></tr>"
        )
    summary = report["quality"]["summary"]
    cards = [
        ("Dataset drift", "detected" if drifted else "not detected", drifted),
        (
            "Drifted columns",
            f"{report['number_of_drifted_columns']} of {report['number_of_columns']} "
            f"({report['share_of_drifted_columns']:.0%})",
            drifted,
        ),
        ("Rows", f"{report['reference_rows']} ref / {report['current_rows']} cur", False),
        ("Missing values", f"{summary.get('share_of_missing_values', 0):.2%}", False),
    ]
    card_html = "".join(
        f'<div class="card"><span class="muted">{_e(label)}</span>'
        f'<b class="{"bad" if bad else ""}">{_e(value)}</b></div>'
        for label, value, bad in cards
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{_e(title)}</h1><p class="muted">Dataset drift when at least '
        f"{report['drift_share']:.0%} of the columns drift.</p>"
        f'<div class="cards">{card_html}</div>'
        '<h2>Column drift</h2><p class="legend muted">'
        f'<span style="background:{_REF_COLOR}"></span>reference'
        f'<span style="background:{_CUR_COLOR}"></span>current</p>'
        "<table><thead><tr><th>Column</th><th>Type</th><th>Test</th><th>Score</th>"
        "<th>Threshold</th><th>Drift</th><th>Distribution</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><h2>Data quality</h2><table><thead><tr><th>Column</th>"
        "<th>Missing (ref)</th><th>Missing (cur)</th><th>Findings</th></tr></thead><tbody>"
        + "".join(quality_rows)
        + "</tbody></table></body></html>\n"
    )
