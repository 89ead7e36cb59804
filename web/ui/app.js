// The station monitor: polls /api/channels and /healthz and redraws the table.
"use strict";

const tbody = document.querySelector("#channels tbody");

function text(s) {
  return document.createTextNode(s == null ? "" : String(s));
}

function clockTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function cell(row, ...nodes) {
  const td = document.createElement("td");
  nodes.forEach((n) => td.appendChild(n));
  row.appendChild(td);
  return td;
}

function link(href, label) {
  const a = document.createElement("a");
  a.href = href;
  a.appendChild(text(label));
  return a;
}

function nowCell(now) {
  const div = document.createElement("div");
  if (!now) return div;
  div.appendChild(text(now.title + " (" + clockTime(now.start) + "–" + clockTime(now.end) + ")"));
  const start = Date.parse(now.start), end = Date.parse(now.end);
  const bar = document.createElement("div");
  bar.className = "bar";
  const fill = document.createElement("div");
  fill.style.width = Math.max(0, Math.min(100, (100 * (Date.now() - start)) / (end - start))) + "%";
  bar.appendChild(fill);
  div.appendChild(bar);
  return div;
}

function render(channels) {
  tbody.replaceChildren();
  for (const ch of channels) {
    const tr = document.createElement("tr");
    tr.dataset.number = ch.number;
    cell(tr, text(ch.number));
    cell(tr, text(ch.name));
    const st = cell(tr, text(ch.state + " · " + ch.mode));
    st.className = "state-" + ch.state;
    cell(tr, nowCell(ch.now));
    cell(tr, text(ch.next ? ch.next.title + " at " + clockTime(ch.next.start) : ""));
    const w = cell(tr, link(ch.hls, "HLS"));
    w.appendChild(text(" · "));
    w.appendChild(link(ch.ts, "TS"));
    tbody.appendChild(tr);
  }
}

async function refresh() {
  try {
    const [chs, health] = await Promise.all([
      fetch("/api/channels").then((r) => r.json()),
      fetch("/healthz").then((r) => r.json()),
    ]);
    render(chs);
    document.getElementById("health").textContent =
      "station " + health.status + ": " + health.on_air + " of " + health.channels +
      " channels on the air, " + health.streams + " viewers";
  } catch (e) {
    document.getElementById("health").textContent = "station unreachable: " + e;
  }
}

setInterval(() => {
  document.getElementById("clock").textContent = new Date().toLocaleString();
}, 1000);
refresh();
setInterval(refresh, 5000);
