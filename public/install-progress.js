// The install page: looks for news every two seconds while sub-accounts are connecting, and shows
// it without a reload. Without JavaScript the page refreshes itself instead (<noscript> in its head).
(function () {
  "use strict";
  const root = document.getElementById("install");
  if (!root) return;
  const url = root.dataset.progress;
  // Opened from the callback: a reload must show this page, not spend the authorization code again.
  const self = url.replace(/\/progress$/, "");
  if (location.pathname !== self) history.replaceState(null, "", self);
  if (root.dataset.live !== "true") return;

  const STATUS = {
    connected: ["good", "Connected"],
    failed: ["bad", "Could not connect"],
    connecting: ["info", "Connecting…"],
  };
  const $ = (id) => document.getElementById(id);
  const number = (n) => n.toLocaleString("en-US");
  const el = (tag, props, children) => {
    const node = Object.assign(document.createElement(tag), props || {});
    for (const child of children || []) node.append(child);
    return node;
  };

  function row(l) {
    const [tone, text] = STATUS[l.status];
    const name = l.name
      ? el("span", { className: "name", textContent: l.name })
      : el("span", { className: "muted", textContent: "Name not known yet" });
    const status = [el("span", { className: `badge ${tone}`, textContent: text })];
    if (l.error) status.push(" ", el("span", { className: "reason", textContent: l.error }));
    return el("tr", {}, [
      el("td", {}, [name, " ", el("code", { textContent: l.id })]),
      el("td", { textContent: l.timeZone || "—" }),
      el("td", {}, status),
    ]);
  }

  function render(p) {
    $("install-headline").textContent = p.headline;
    $("install-summary").textContent = p.summary;
    document.title = `${p.headline} · Block Slots for HighLevel`;
    root.classList.remove("ok", "bad", "working");
    root.classList.add(p.tone);
    const c = p.counts;
    if ($("count-connected")) {
      $("count-connected").textContent = number(c.connected);
      $("count-failed").textContent = number(c.failed);
      $("count-connecting").textContent = number(c.connecting);
      const bar = $("install-bar");
      bar.setAttribute("aria-valuemax", String(c.total));
      bar.setAttribute("aria-valuenow", String(c.connected + c.failed));
      const pct = (n) => (c.total ? ((100 * n) / c.total).toFixed(2) : "0");
      const [ok, bad] = bar.querySelectorAll("rect");
      ok.setAttribute("width", pct(c.connected));
      bad.setAttribute("x", pct(c.connected));
      bad.setAttribute("width", pct(c.failed));
    }
    const body = $("install-locations");
    body.replaceChildren(...p.locations.map(row));
    body.closest("table").hidden = p.locations.length === 0;
    $("unlisted-count").textContent = number(p.unlisted);
    $("install-unlisted").hidden = p.unlisted === 0;
    $("install-failed-hint").hidden = c.failed === 0;
  }

  async function tick() {
    let live = true;
    try {
      const res = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
      if (res.status === 404) live = false;
      if (res.ok) {
        const p = await res.json();
        render(p);
        live = p.live;
      }
    } catch {
      // A network blip: try again at the next tick.
    }
    if (live) setTimeout(tick, 2000);
  }
  setTimeout(tick, 2000);
})();
