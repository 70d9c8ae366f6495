// The custom page inside HighLevel. No framework: ask the parent window who the user is, trade
// HighLevel's encrypted payload for a session, then talk to /app/api with it.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = { csrf: null, locationId: null, calendars: [] };
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone });

  function status(text, bad) {
    const el = $("status");
    el.textContent = text;
    el.className = bad ? "status bad" : "status";
    el.hidden = !text;
  }

  async function call(method, path, body) {
    const url = new URL(path, location.origin);
    if (state.locationId !== null) url.searchParams.set("locationId", state.locationId);
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
    const res = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) {
      const err = new Error((data && data.detail) || `The app answered ${res.status}.`);
      err.problem = data || {};
      throw err;
    }
    return data;
  }

  // ---- signing in through HighLevel's parent window ------------------------------------
  function requestUserData() {
    if (window.parent === window) {
      status("Open this page from inside HighLevel: it signs you in through your HighLevel session.", true);
      return;
    }
    let answered = false;
    window.addEventListener("message", async (event) => {
      // Only HighLevel's window, the one framing this page, speaks for the user: a popup or another
      // frame could otherwise sign the page in as someone else with a payload of its own.
      if (event.source !== window.parent) return;
      const data = event.data;
      if (!data || data.message !== "REQUEST_USER_DATA_RESPONSE" || answered) return;
      answered = true;
      try {
        const session = await call("POST", "/app/session", { payload: data.payload });
        state.csrf = session.csrf;
        state.locationId = session.locationId || "";
        await (session.locationId ? showLocation() : showAgency(session));
        if (session.agencyAdmin) await showRules();
        status("");
      } catch (err) {
        status(err.message, true);
      }
    });
    window.parent.postMessage({ message: "REQUEST_USER_DATA" }, "*");
    setTimeout(() => {
      if (!answered)
        status(
          "HighLevel did not answer. Reload the page; if it keeps happening, open it again from the HighLevel menu.",
          true,
        );
    }, 8000);
  }

  // ---- one sub-account ---------------------------------------------------------------
  async function showLocation() {
    const { location: loc } = await call("GET", "/app/api/location");
    $("location-name").textContent = loc.name || `Sub-account ${loc.id}`;
    const badge = $("location-status");
    const connected = loc.status === "active";
    badge.textContent = connected ? "Connected" : loc.status.replaceAll("_", " ");
    badge.className = `badge ${connected ? "good" : "bad"}`;
    $("location-detail").textContent = connected
      ? ""
      : loc.status === "reauthorization_required"
        ? "HighLevel no longer accepts this sub-account's authorization: reinstall the app from the marketplace."
        : loc.lastError || "Install the app in this sub-account from the HighLevel marketplace.";
    $("location-panel").hidden = false;
    if (!connected) return;
    $("block-panel").hidden = false;
    $("upcoming-panel").hidden = false;
    $("tz").textContent = timeZone;
    await loadUpcoming();
  }

  async function loadUpcoming() {
    const data = await call("GET", "/app/api/block-slots");
    state.calendars = data.calendars.map((c) => c.calendar);
    const select = $("calendarId");
    const chosen = select.value;
    select.replaceChildren(...state.calendars.map((c) => new Option(c.name, c.id)));
    if (chosen) select.value = chosen;
    if (state.calendars.length === 0) select.replaceChildren(new Option("No calendars in this sub-account", ""));

    const box = $("upcoming");
    box.replaceChildren();
    let count = 0;
    for (const { calendar, blockSlots } of data.calendars) {
      const section = document.createElement("div");
      section.className = "calendar";
      const h = document.createElement("h3");
      h.textContent = calendar.name;
      section.append(h);
      if (blockSlots.length === 0) {
        const p = document.createElement("p");
        p.className = "muted";
        p.textContent = "Nothing blocked.";
        section.append(p);
      } else {
        const table = document.createElement("table");
        table.innerHTML =
          '<thead><tr><th scope="col">When</th><th scope="col">Title</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>';
        const tbody = document.createElement("tbody");
        for (const slot of blockSlots) {
          count += 1;
          const tr = document.createElement("tr");
          const time = document.createElement("td");
          time.textContent = `${when.format(new Date(slot.startTime))} – ${when.format(new Date(slot.endTime))}`;
          const title = document.createElement("td");
          title.textContent = slot.title || "—";
          const actions = document.createElement("td");
          const del = document.createElement("button");
          del.type = "button";
          del.className = "link-danger";
          del.textContent = "Delete";
          del.setAttribute("aria-label", `Delete block ${slot.title || ""} ${time.textContent}`.trim());
          del.addEventListener("click", () => removeBlock(slot.id, del));
          actions.append(del);
          tr.append(time, title, actions);
          tbody.append(tr);
        }
        table.append(tbody);
        section.append(table);
      }
      box.append(section);
    }
    box.dataset.count = String(count);
  }

  async function removeBlock(id, button) {
    button.disabled = true;
    try {
      await call("DELETE", `/app/api/block-slots/${encodeURIComponent(id)}`);
      message("form-message", "Block deleted.", false);
      await loadUpcoming();
    } catch (err) {
      button.disabled = false;
      message("form-message", err.message, true);
    }
  }

  function message(id, text, bad) {
    const el = $(id);
    el.textContent = text;
    el.className = `form-message ${bad ? "bad" : "good"}`;
  }

  /** The API's field errors, next to their fields (the same messages the API gives). */
  function showErrors(form, problem, fallbackId) {
    for (const el of form.querySelectorAll(".error")) el.textContent = "";
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    const unplaced = [];
    for (const e of problem.errors || []) {
      const field = e.path.split(".")[0];
      const target = $(`${field}-error`);
      if (target) {
        target.textContent = e.message;
        const input = $(field);
        if (input) input.setAttribute("aria-invalid", "true");
      } else unplaced.push(`${e.path}: ${e.message}`);
    }
    if (unplaced.length || !(problem.errors || []).length)
      message(fallbackId, unplaced.join("; ") || problem.detail || "That did not work.", true);
  }

  function isoFromLocal(value) {
    // datetime-local is the browser's local time; HighLevel wants an instant with an offset.
    if (!value) return "";
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date.toISOString();
  }

  function wireBlockForm() {
    const form = $("block-form");
    for (const radio of form.querySelectorAll('input[name="kind"]')) {
      radio.addEventListener("change", () => {
        const user = form.querySelector('input[name="kind"]:checked').value === "user";
        $("user-field").hidden = !user;
        $("calendar-field").hidden = user;
      });
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const user = form.querySelector('input[name="kind"]:checked').value === "user";
      const body = {
        ...(user
          ? { assignedUserId: $("assignedUserId").value.trim() || undefined }
          : { calendarId: $("calendarId").value || undefined }),
        startTime: isoFromLocal($("startTime").value),
        endTime: isoFromLocal($("endTime").value),
        ...($("title").value.trim() ? { title: $("title").value.trim() } : {}),
      };
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await call("POST", "/app/api/block-slots", body);
        showErrors(form, { errors: [] }, "form-message");
        message("form-message", "Time blocked.", false);
        await loadUpcoming();
      } catch (err) {
        showErrors(form, err.problem, "form-message");
      } finally {
        button.disabled = false;
      }
    });
  }

  // ---- agency level ------------------------------------------------------------------
  async function showAgency(session) {
    const { agency } = await call("GET", "/app/api/location");
    $("location-name").textContent = "Agency";
    $("location-status").textContent = `${agency.locations.filter((l) => l.status === "active").length} connected`;
    $("location-status").className = "badge good";
    $("location-detail").textContent = session.agencyAdmin ? "" : "Ask an agency admin to manage blocking rules.";
    $("location-panel").hidden = false;
    const list = document.createElement("ul");
    for (const l of agency.locations) {
      const li = document.createElement("li");
      li.textContent = `${l.name || l.id} — ${l.status.replaceAll("_", " ")}`;
      list.append(li);
    }
    $("agency-locations").replaceChildren(
      agency.locations.length
        ? list
        : Object.assign(document.createElement("p"), { textContent: "No sub-accounts connected yet." }),
    );
    for (const select of document.querySelectorAll(".location-select")) {
      select.replaceChildren(...agency.locations.map((l) => new Option(l.name || l.id, l.id)));
    }
    $("agency-panel").hidden = false;
  }

  async function showRules() {
    $("rules-panel").hidden = false;
    const { rules } = await call("GET", "/app/api/rules");
    const box = $("rules");
    box.replaceChildren();
    if (rules.length === 0)
      box.append(Object.assign(document.createElement("p"), { className: "muted", textContent: "No rules yet." }));
    for (const rule of rules) {
      const row = document.createElement("p");
      const describe = (e) => `${e.locationId} / ${e.calendarId || `user ${e.assignedUserId}`}`;
      row.textContent = `${rule.name || "Rule"}: ${describe(rule.source)} → ${rule.targets.map(describe).join(", ")} `;
      const del = document.createElement("button");
      del.type = "button";
      del.className = "link-danger";
      del.textContent = "Delete";
      del.addEventListener("click", async () => {
        await call("DELETE", `/app/api/rules/${rule.id}`).catch((err) => message("rule-message", err.message, true));
        await showRules();
      });
      row.append(del);
      box.append(row);
    }
  }

  function wireRuleForm() {
    const form = $("rule-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        ...($("rule-name").value.trim() ? { name: $("rule-name").value.trim() } : {}),
        source: { locationId: $("source-location").value, calendarId: $("source-calendar").value.trim() || undefined },
        targets: [
          { locationId: $("target-location").value, calendarId: $("target-calendar").value.trim() || undefined },
        ],
      };
      try {
        await call("POST", "/app/api/rules", body);
        message("rule-message", "Rule added.", false);
        await showRules();
      } catch (err) {
        showErrors(form, err.problem, "rule-message");
      }
    });
  }

  wireBlockForm();
  wireRuleForm();
  requestUserData();
})();
