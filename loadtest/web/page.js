// The live page of `go run ./loadtest -web`. It keeps a mirror of the
// harness's state (webState in loadtest/webstate.go), which /events sends
// whole when the page connects and then change by change (the events are
// listed in loadtest/webstream.go), and draws it: the verdict table, the
// live rate of the version under load (uPlot), and a bar per finished
// version, its throughput as a ratio to the baseline's. Plain ES, no build.
"use strict";

// page is the mirror, and what the browser test reads as window.labPage.
const page = {
  state: { phase: "starting", rows: [], current: -1, loaded: -1, rates: [] },
  drawn: [],     // every live rate drawn into the chart, in order
  closed: false, // the harness has gone: the page keeps what it has
  lost: false,   // the stream broke; the browser is reconnecting
};
window.labPage = page;

const maxRates = 1200; // as the server keeps (maxRatePoints)
const $ = (id) => document.getElementById(id);
const fmt = (n) => Math.round(n).toLocaleString("en-US");

// ---- The stream ----

const stream = new EventSource("events");

// on handles one kind of event: its data is one line of JSON.
function on(name, handle) {
  stream.addEventListener(name, (e) => handle(JSON.parse(e.data)));
}

// state: everything so far, on connecting, or after falling behind.
on("state", (s) => {
  page.state = s;
  s.rows = s.rows || [];
  s.rates = s.rates || [];
  page.lost = false;
  page.drawn.push(...s.rates.map((p) => p.rps));
  renderAll();
});
// planned: every row of the run, named, before any runs.
on("planned", (d) => { page.state.rows = d.rows; renderTable(); });
on("building", (d) => { Object.assign(page.state, d); renderHeader(); });
on("built", (d) => { Object.assign(page.state, d); renderHeader(); });
on("status", (d) => { Object.assign(page.state, d); renderHeader(); });

// running: row d.current is under load; the live chart starts over.
on("running", (d) => {
  const s = page.state;
  while (s.rows.length < d.total) s.rows.push(null);
  s.rows[d.current] = d.row;
  Object.assign(s, { phase: d.phase, current: d.current, loaded: d.current, rates: [] });
  renderAll();
});

// rate: a point of the live rate, every half second under load.
on("rate", (p) => {
  const s = page.state;
  s.rates.push(p);
  if (s.rates.length > maxRates) s.rates.shift();
  page.drawn.push(p.rps);
  renderRate();
});

// finished: a row's verdict (rows finish in any order).
on("finished", (d) => {
  const s = page.state;
  while (s.rows.length <= d.row.i) s.rows.push(null);
  s.rows[d.row.i] = d.row;
  renderTable();
  renderBars();
});

// ended: the report's rows, with the authoritative ratios, and the last word.
on("ended", (d) => { Object.assign(page.state, d); renderAll(); });

// closed: the harness has exited. Without this the browser would try to
// reconnect every two seconds, for ever.
on("closed", () => { page.closed = true; stream.close(); renderHeader(); });
stream.onerror = () => { if (!page.closed) { page.lost = true; renderHeader(); } };

// ---- Drawing ----

function renderAll() {
  renderHeader();
  renderRate();
  renderTable();
  renderBars();
}

function renderHeader() {
  const s = page.state;
  let phase = "starting…";
  switch (s.phase) {
    case "building": phase = `building servers: ${s.built} of ${s.servers}`; break;
    case "running": phase = `version ${s.current + 1} of ${s.rows.length}`; break;
    case "ended": phase = "the run is over"; break;
  }
  if (page.closed) phase += " · the harness has exited";
  $("phase").textContent = phase;
  // The table's first line, once the run is over: the command, each
  // argument kept whole, and what it ran on.
  wholes($("command"), s.end ? s.end.command.split(" ") : [], " ");
  wholes($("about"), s.end ? s.end.about : s.kind ? [s.kind] : [], "; ");
  $("status").textContent = page.lost && !page.closed ? "(the harness does not answer: reconnecting…)" : s.status || "";
  const over = $("over");
  over.hidden = !s.end;
  if (s.end) {
    $("summary").textContent = "The run is over: " + s.end.summary;
    over.classList.toggle("bad", !s.end.all_declared);
  }
}

// wholes writes parts into el, sep between them, each in a span that a line
// never breaks: "-race" stays whole.
function wholes(el, parts, sep) {
  el.replaceChildren(...parts.flatMap((part, i) => {
    const span = document.createElement("span");
    span.className = "whole";
    span.textContent = part;
    return i === 0 ? [span] : [sep, span];
  }));
}

// The live rate's chart, made at the first point: uPlot needs its size.
let rateChart = null;

function renderRate() {
  const s = page.state;
  const row = s.rows[s.loaded];
  const label = row ? `${row.subject} ${row.strategy}` : "waiting for the first version";
  $("live-row").textContent = s.current >= 0 || !row ? `Live: ${label}` : `The last under load: ${label}`;
  const last = s.rates[s.rates.length - 1];
  $("live-rps").textContent = last && s.current >= 0 ? `${fmt(last.rps)} req/s` : "";
  const data = [s.rates.map((p) => p.t), s.rates.map((p) => p.rps)];
  if (!rateChart) rateChart = newRateChart(data);
  else rateChart.setData(data);
}

function newRateChart(data) {
  const el = $("rate-chart");
  const axisFont = "18px DejaVu Sans, Helvetica, Arial, sans-serif";
  const axis = { font: axisFont, labelFont: axisFont, stroke: "#111", grid: { stroke: "#ddd" }, ticks: { stroke: "#bbb" } };
  return new uPlot({
    width: el.clientWidth,
    height: el.clientHeight,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: { time: false, range: (u, min, max) => [0, Math.max(max, 5)] },
      y: { range: (u, min, max) => [0, Math.max(max * 1.15, 100)] },
    },
    series: [{}, { stroke: "#1f5fbf", width: 4, fill: "rgba(31, 95, 191, 0.12)", points: { show: false } }],
    axes: [
      { ...axis, label: "seconds under load", labelSize: 24 },
      { ...axis, size: 80, label: "req/s", labelSize: 24, values: (u, ticks) => ticks.map(fmt) },
    ],
  }, data, el);
}

window.addEventListener("resize", () => {
  const el = $("rate-chart");
  if (rateChart) rateChart.setSize({ width: el.clientWidth, height: el.clientHeight });
});

// cell is a table cell with text, and a class if given.
function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

// numCell is a number cell, such as "3,791 ±16%" or "1.00 (0.83–1.14)":
// the figure on its line, and what qualifies it smaller under it, so that
// the numbers leave the evidence room. Its text is still the terminal's.
function numCell(text) {
  const td = cell("", "num");
  const at = text.indexOf(" ");
  if (at < 0) {
    td.textContent = text;
    return td;
  }
  const rest = document.createElement("span");
  rest.className = "qualifier";
  rest.textContent = text.slice(at + 1);
  td.append(text.slice(0, at + 1), rest);
  return td;
}

// renderTable writes every row: a finished one as the terminal's table
// does, the one under load highlighted, the rest greyed.
function renderTable() {
  const s = page.state;
  const trs = s.rows.map((row, i) => {
    const tr = document.createElement("tr");
    const r = row && row.result;
    let cells;
    if (!row || row.pending) {
      tr.className = "pending";
      cells = [cell(row ? row.subject : "…"), cell(row ? row.strategy : ""), cell("pending", "verdict"), cell(""),
        cell("", "num"), cell("", "num"), cell(`version ${i + 1} of ${s.rows.length}`, "evidence")];
    } else if (!r) {
      const loading = i === s.current;
      tr.className = loading ? "under-load" : "stopping";
      cells = [cell(row.subject), cell(row.strategy), cell(loading ? "under load…" : "stopping…", "verdict"), cell(""),
        cell("", "num"), cell("", "num"), cell(loading ? "" : "its server is stopping; the verdict comes after", "evidence")];
    } else {
      const evidence = cell(r.evidence, "evidence");
      if (r.drawing) {
        // The history this row found wrong, drawn: the harness serves it.
        const a = document.createElement("a");
        a.href = "histories/" + encodeURIComponent(r.drawing.split("/").pop());
        a.target = "_blank";
        a.className = "drawing";
        a.textContent = "the history, drawn";
        evidence.append(" ", a);
      }
      cells = [cell(r.subject), cell(r.strategy), cell(r.verdict, "verdict"), cell(r.mark, r.as_declared ? "mark good" : "mark bad"),
        numCell(r.rps_text), numCell(r.ratio_text), evidence];
    }
    tr.replaceChildren(...cells);
    return tr;
  });
  $("rows").replaceChildren(...trs);
}

// renderBars draws a bar per finished row that has a ratio to its
// baseline, scaled so that the longest fits; the dashed line is 1.00.
function renderBars() {
  const done = page.state.rows.filter((row) => row && row.result && row.result.ratio);
  const el = $("bars");
  if (done.length === 0) return;
  const scale = Math.max(1, ...done.map((row) => row.result.ratio.median)) * 1.05;
  const pct = (x) => `${(100 * x / scale).toFixed(1)}%`;
  const parts = [];
  for (const row of done) {
    const r = row.result;
    const label = document.createElement("span");
    label.className = "bar-label";
    label.textContent = `${r.subject} ${r.strategy}`;
    const track = document.createElement("span");
    track.className = "bar-track";
    const bar = document.createElement("span");
    bar.className = "bar " + (r.subject === "baseline" ? "base" : r.verdict === "ok" ? "ok" : "failed");
    bar.style.width = pct(r.ratio.median);
    const one = document.createElement("span");
    one.className = "bar-one";
    one.style.left = pct(1);
    track.replaceChildren(bar, one);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = r.ratio.median.toFixed(2);
    parts.push(label, track, value);
  }
  el.replaceChildren(...parts);
}
