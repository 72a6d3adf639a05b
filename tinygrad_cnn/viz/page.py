"""The backward stepper page: one HTML file with the graph as inline SVG, the steps as JSON and a
short plain script; nothing is fetched from the network."""
from __future__ import annotations

import json
import re

import graphviz

from .base import require_dot

__all__ = ["render_page", "svg_of"]

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 0; display: flex; height: 100vh; }
#graph { flex: 1; overflow: auto; padding: 8px; border-right: 1px solid #ddd; }
#graph svg { height: auto; }  /* its own size: labels stay readable, the pane scrolls */
#panel { width: 380px; padding: 12px; overflow-y: auto; font-size: 13px; }
#controls { display: flex; gap: 6px; align-items: center; margin-bottom: 10px; }
#controls input[type=range] { flex: 1; }
h1 { font-size: 15px; margin: 0 0 8px; }
.row { margin: 4px 0; }
.key { color: #666; }
ul { padding-left: 18px; }
li.accum { color: #b35c00; font-weight: bold; }
.rule { background: #f6f8fa; border-left: 3px solid #8888aa; padding: 4px 6px; margin: 6px 0; }
.call { font-family: monospace; font-size: 12px; color: #333; word-break: break-word; }
canvas.heat { display: block; margin: 3px 0 6px; image-rendering: pixelated; border: 1px solid #ddd; }
table.steps { border-collapse: collapse; font-size: 12px; margin: 8px; }
table.steps td, table.steps th { border: 1px solid #ddd; padding: 2px 6px; text-align: left; }
.legend span { display: inline-block; padding: 1px 6px; margin: 2px 4px 2px 0; border: 2px solid; }
g.node.done path, g.node.done polygon { fill: #dff0d8; }
g.node.current path, g.node.current polygon { stroke: #d32f2f; stroke-width: 4px; }
g.node.target path, g.node.target polygon { stroke: #1565c0; stroke-width: 3px; }
g.node.accum path, g.node.accum polygon { stroke: #ef6c00; stroke-width: 4px; stroke-dasharray: 6,3; }
"""

_SCRIPT = """
const steps = JSON.parse(document.getElementById('steps-data').textContent);
const slider = document.getElementById('slider');
slider.max = steps.length - 1;
function node(id) { return id ? document.getElementById(id) : null; }
function heat(h) {
  // one canvas: the tiles side by side, blue below 0, white at 0, red above (levels -9 .. 9)
  if (!h) return document.createElement('span');  // a scalar: nothing to picture
  const c = document.createElement('canvas');
  c.className = 'heat';
  const rows = Math.max(...h.tiles.map(t => t.length)), cols = h.tiles.map(t => t[0].length);
  const cell = Math.max(2, Math.min(8, Math.floor(300 / (cols.reduce((a, b) => a + b + 1, 0)))));
  c.width = cell * cols.reduce((a, b) => a + b + 1, 0); c.height = cell * rows;
  const ctx = c.getContext('2d');
  let x0 = 0;
  h.tiles.forEach((t, k) => {
    t.forEach((row, i) => row.forEach((v, j) => {
      const a = Math.abs(v) / 9, w = Math.round(255 * (1 - a));
      ctx.fillStyle = v >= 0 ? `rgb(255,${w},${w})` : `rgb(${w},${w},255)`;
      ctx.fillRect(x0 + j * cell, i * cell, cell, cell);
    }));
    x0 += (cols[k] + 1) * cell;
  });
  c.title = 'blue < 0 < red; |max| ' + h.scale.toPrecision(4);
  return c;
}
function show(k) {
  k = Math.max(0, Math.min(steps.length - 1, k));
  slider.value = k;
  document.querySelectorAll('g.node').forEach(n => n.classList.remove('current', 'done', 'target', 'accum'));
  for (let i = 0; i < k; i++) { const n = node(steps[i].node); if (n) n.classList.add('done'); }
  const s = steps[k];
  for (const h of s.handed) { const n = node(h.to); if (n) n.classList.add(h.contribution > 1 ? 'accum' : 'target'); }
  const cur = node(s.node);
  if (cur) { cur.classList.add('current'); cur.scrollIntoView({block: 'nearest', inline: 'nearest'}); }
  document.getElementById('p-step').textContent = (k + 1) + ' of ' + steps.length;
  document.getElementById('p-op').textContent = s.kind === 'leaf' ? 'AccumulateGrad (into .grad)' : s.op + ' backward';
  document.getElementById('p-node').textContent = s.caption;
  document.getElementById('p-rule').textContent = s.rule || 'a leaf: the gradient is added into .grad';
  document.getElementById('p-call').textContent = s.call ? 'forward was ' + s.call : '';
  document.getElementById('p-grad').textContent = s.grad.text;
  document.getElementById('p-heat').replaceChildren(heat(s.grad.heat));
  document.getElementById('p-sum').textContent = s.contributions > 1 ?
    'the sum of ' + s.contributions + ' contributions (this tensor was used ' + s.contributions + ' times)' : '';
  const list = document.getElementById('p-handed');
  list.innerHTML = '';
  for (const h of s.handed) {
    const li = document.createElement('li');
    let text = 'input ' + (h.input + 1) + ' → ' + h.caption + ': ' + h.grad.text;
    if (h.of > 1) text += ' — contribution ' + h.contribution + ' of ' + h.of;
    if (h.running) { text += '; accumulated, ' + h.running.text; li.className = 'accum'; }
    li.textContent = text;
    li.appendChild(heat(h.grad.heat));
    list.appendChild(li);
  }
  if (!s.handed.length) list.innerHTML = '<li>nothing: a leaf keeps its gradient in .grad</li>';
  document.body.dataset.step = k;
  history.replaceState(null, '', '#step=' + k);
}
document.getElementById('prev').onclick = () => show(+slider.value - 1);
document.getElementById('next').onclick = () => show(+slider.value + 1);
slider.oninput = () => show(+slider.value);
document.addEventListener('keydown', e => {
  if (e.key === 'ArrowLeft') show(+slider.value - 1);
  if (e.key === 'ArrowRight') show(+slider.value + 1);
});
const m = location.hash.match(/step=(\\d+)/);
show(m ? +m[1] : 0);
"""


def svg_of(dot: str) -> str:
    """The graph as an inline ``<svg>`` element (XML declaration, DOCTYPE and comments removed)."""
    require_dot("to_html")
    svg = graphviz.Source(dot).pipe(format="svg").decode("utf-8")
    svg = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", svg, flags=re.S)
    return svg.strip()


def _static_table(steps: list[dict]) -> str:
    """The steps as a table, for readers whose browser runs no script (and for a notebook's static view)."""
    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;")

    rows = "".join(f"<tr><td>{s['step'] + 1}</td><td>{esc(s['caption'])}</td><td>{esc(s.get('rule', 'into .grad'))}"
                   f"</td><td>{esc(s['grad']['text'])}</td></tr>" for s in steps)
    return (f'<table class="steps"><tr><th>step</th><th>tensor</th><th>backward rule</th><th>incoming gradient</th>'
            f"</tr>{rows}</table>")


def render_page(title: str, dot: str, steps: list[dict]) -> str:
    """The whole page as one string."""
    data = json.dumps(steps).replace("</", "<\\/")  # no "</script>" can end the data block early
    esc = title.replace("&", "&amp;").replace("<", "&lt;")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc}</title><style>{_CSS}</style></head>
<body data-step="0">
<div id="graph">{svg_of(dot)}</div>
<div id="panel">
<h1>{esc}</h1>
<div id="controls"><button id="prev">◀ Prev</button><input id="slider" type="range" min="0" value="0">
<button id="next">Next ▶</button></div>
<div class="row"><span class="key">step</span> <b id="p-step"></b></div>
<div class="row"><span class="key">runs</span> <b id="p-op"></b></div>
<div class="row"><span class="key">tensor</span> <span id="p-node"></span></div>
<div class="rule" id="p-rule"></div>
<div class="row call" id="p-call"></div>
<div class="row"><span class="key">incoming gradient g</span> <span id="p-grad"></span><div id="p-heat"></div></div>
<div class="row" id="p-sum"></div>
<div class="row"><span class="key">hands to its inputs</span><ul id="p-handed"></ul></div>
<div class="legend"><span style="border-color:#d32f2f">current</span><span style="border-color:#1565c0">receives
</span><span style="border-color:#ef6c00;border-style:dashed">accumulates</span><span style="background:#dff0d8;
border-color:#dff0d8">done</span></div>
<p class="key">Keys ← →; the address ends in #step=K (K counts from 0). Heatmaps: blue below 0, red
above; a tile per channel of the first image, or per filter of a conv weight.</p>
</div>
<noscript>{_static_table(steps)}</noscript>
<script type="application/json" id="steps-data">{data}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
