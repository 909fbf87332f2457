"""A static, self-contained HTML page for a person to review an answer-evaluation report.

One row per question: the question, the model's answer, the gold answer, the cited quotes with document and
page, the calculations the service computed (with each operand's source), the automatic score, and a grade
select with a note field. A small inline script keeps the grades in the browser's local storage and exports them
as JSON. No external assets; every text from the report is escaped, and the script reads only the page itself (no
report data is embedded in it).
"""

import json
from html import escape

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:6px;vertical-align:top;text-align:left}
th{background:#f3f3f3}.ok{color:#17692b;font-weight:600}.bad{color:#a32020;font-weight:600}.na{color:#777}
.quote{margin:.3em 0;padding:.2em .5em;border-left:3px solid #bbb;background:#fafafa}
.quote.right{border-color:#2e8b57}.quote.wrong{border-color:#c0392b}.small{color:#666;font-size:12px}
.summary td{border:none;padding:2px 12px 2px 0}textarea{width:100%;height:8em}select,input{width:100%}
"""

SCRIPT = """
(function(){
  var key = 'rag-review:' + document.title;
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(key) || '{}'); } catch (e) { saved = {}; }
  var rows = document.querySelectorAll('tr[data-id]');
  rows.forEach(function(row){
    var id = row.getAttribute('data-row'), g = row.querySelector('select'), n = row.querySelector('input');
    if (saved[id]) { g.value = saved[id].grade || ''; n.value = saved[id].note || ''; }
    function store(){ saved[id] = {grade: g.value, note: n.value};
      try { localStorage.setItem(key, JSON.stringify(saved)); } catch (e) {} }
    g.addEventListener('change', store); n.addEventListener('input', store);
  });
  document.getElementById('export').addEventListener('click', function(){
    var grades = [];
    rows.forEach(function(row){
      grades.push({id: row.getAttribute('data-id'), question: row.getAttribute('data-question'),
                   auto_correct: JSON.parse(row.getAttribute('data-auto') || 'null'),
                   grade: row.querySelector('select').value || null, note: row.querySelector('input').value});
    });
    var text = JSON.stringify({report: document.title, grades: grades}, null, 2);
    document.getElementById('out').value = text;
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], {type: 'application/json'}));
    a.download = 'grades.json'; document.body.appendChild(a); a.click(); a.remove();
  });
})();
"""

GRADES = ("", "correct", "partly correct", "incorrect", "should have refused", "refusal was right")


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _mark(value) -> str:
    if value is None:
        return '<span class="na">n/a</span>'
    return '<span class="ok">correct</span>' if value else '<span class="bad">incorrect</span>'


def _num(value) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else _e(value)


def _summary(report: dict) -> str:
    s = report.get("summary", {})
    keys = (
        "questions",
        "answerable",
        "unanswerable",
        "accuracy",
        "accuracy_when_answered",
        "mean_f1",
        "citation_precision",
        "citation_recall",
        "refusal_rate",
        "refusal_accuracy",
        "false_refusal_rate",
        "judge_accuracy",
        "errors",
    )
    cells = "".join(f"<tr><td>{_e(k)}</td><td>{_num(s.get(k))}</td></tr>" for k in keys if k in s)
    lat = s.get("latency_ms", {})
    cells += "".join(f"<tr><td>{_e(k)} p50 / p95</td><td>{v['p50']:.0f} / {v['p95']:.0f}</td></tr>" for k, v in lat.items())
    model = (report.get("model") or {}).get("name")
    return (
        f'<p class="small">docs {_e(report.get("docs"))} &middot; questions {_e(report.get("questions_file"))}'
        f' &middot; model {_e(model)}</p><table class="summary">{cells}</table>'
    )


def _citations(row: dict) -> str:
    parts = []
    for c in row.get("citations") or []:
        cls = "" if c.get("right") is None else " right" if c["right"] else " wrong"
        parts.append(
            f'<div class="quote{cls}">[{_e(c.get("n"))}] <b>{_e(c.get("doc"))}, p.{_e(c.get("page"))}</b>: '
            f"{_e(c.get('quote'))}</div>"
        )
    gold = ", ".join(f"{g['doc'] or '?'} p.{g['page']}" for g in row.get("gold_pages") or [])
    if gold:
        parts.append(f'<div class="small">gold pages: {_e(gold)}</div>')
    for calc in row.get("calculations") or []:
        stated = f" (the model wrote {calc['stated']}: replaced)" if calc.get("replaced") else ""
        operands = "; ".join(f"{o.get('text')} [{o.get('citation')}]: {o.get('quote')}" for o in calc.get("operands") or [])
        parts.append(
            f'<div class="quote calc">computed: {_e(calc.get("expression"))} = <b>{_e(calc.get("text"))}</b>{_e(stated)}'
            f'<div class="small">{_e(operands)}</div></div>'
        )
    if row.get("dropped"):
        parts.append(f'<div class="small">dropped: {_e(" | ".join(row["dropped"]))}</div>')
    return "".join(parts) or '<span class="na">no citations</span>'


def _auto(row: dict) -> str:
    if row.get("error"):
        return f'<span class="bad">error</span><div class="small">{_e(row["error"])}</div>'
    detail = f"{_e(row.get('method'))}" + (f", F1 {row['f1']:.2f}" if row.get("f1") is not None else "")
    judge = "" if row.get("judge") is None else f'<div class="small">judge: {_mark(row["judge"])}</div>'
    cites = f'<div class="small">cit. P {_num(row.get("citation_precision"))} R {_num(row.get("citation_recall"))}</div>'
    return f'{_mark(row.get("correct"))}<div class="small">{detail}</div>{judge}{cites}'


def _row(i: int, row: dict) -> str:
    options = "".join(f'<option value="{_e(g)}">{_e(g or "-")}</option>' for g in GRADES)
    answer = row.get("answer", "")
    flags = (" (refused)" if row.get("refused") else "") + ("" if row.get("answerable", True) else " [unanswerable]")
    return (
        f'<tr data-row="{i}" data-id="{_e(row.get("id"))}" data-question="{_e(row.get("question"))}" '
        f'data-auto="{_e(json.dumps(row.get("correct")))}"><td>{_e(row.get("id"))}</td><td>{_e(row.get("question"))}'
        f'<div class="small">{_e(flags)}</div></td><td>{_e(answer)}</td><td>{_e(row.get("gold_answer"))}</td>'
        f"<td>{_citations(row)}</td><td>{_auto(row)}</td>"
        f'<td><select aria-label="grade">{options}</select><input aria-label="note" placeholder="note"></td></tr>'
    )


def review_html(report: dict, title: str = "Answer review") -> str:
    """The review page for a report of `ingest.evaluation.answers.eval_answers`, as one HTML string."""
    head = (
        "<tr><th>#</th><th>question</th><th>model answer</th><th>gold answer</th><th>citations</th>"
        "<th>auto score</th><th>your grade</th></tr>"
    )
    rows = "".join(_row(i, r) for i, r in enumerate(report.get("rows", [])))
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>{_summary(report)}"
        f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"
        f'<p><button id="export" type="button">Export grades (JSON)</button></p>'
        f'<textarea id="out" readonly aria-label="exported grades"></textarea>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )
