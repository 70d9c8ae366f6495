// The agency view: its sub-accounts, and blocking rules between them, everything by name.
"use strict";

(function () {
  const bs = window.BlockSlots;
  const { $, el, call, message, clearErrors, showErrors } = bs;
  /** Rows shown at once: a thousand sub-accounts would push the closures and rules below far away. */
  const SHOWN = 20;
  const STATUS_WORDS = {
    active: "Connected",
    connecting: "Connecting…",
    reauthorization_required: "Needs reinstalling",
    inactive: "Inactive in HighLevel",
    uninstalled: "Uninstalled",
  };

  bs.showAgency = async function (session) {
    const { agency } = await call("GET", "/app/api/location");
    $("location-name").textContent = "Agency";
    $("location-status").textContent = `${agency.locations.filter((l) => l.status === "active").length} connected`;
    $("location-status").className = "badge good";
    $("location-detail").textContent = session.agencyAdmin ? "" : "Ask an agency admin to manage blocking rules.";
    $("location-panel").hidden = false;
    showLocations(agency.locations);
    $("agency-panel").hidden = false;
    const active = agency.locations.filter((l) => l.status === "active");
    const plans = bs.showPlans({
      agency: true,
      companyId: agency.id,
      locations: active,
      canWrite: session.agencyAdmin,
    });
    if (!session.agencyAdmin) return plans;
    for (const select of document.querySelectorAll(".location-select")) {
      select.replaceChildren(
        new Option("Choose a sub-account…", ""),
        ...active.map((l) => new Option(l.name || l.id, l.id)),
      );
      select.addEventListener("change", () => fillWhose(select.value, $(select.dataset.whose)));
      fillWhose("", $(select.dataset.whose));
    }
    $("rules-panel").hidden = false;
    await Promise.all([plans, showRules()]);
  };

  function showLocations(locations) {
    if (!locations.length) {
      $("agency-locations").replaceChildren(el("p", { textContent: "No sub-accounts connected yet." }));
      return;
    }
    // HighLevel's own address of the sub-account: the page opens there, in HighLevel's window.
    const base = document.getElementById("app").dataset.highlevelAppUrl;
    const head = el(
      "thead",
      {},
      el(
        "tr",
        {},
        ...["Sub-account", "Status", "Time zone", ""].map((t) => el("th", { scope: "col", textContent: t })),
      ),
    );
    const rows = locations.map((l) => {
      const link = el("a", {
        href: `${base}/v2/location/${encodeURIComponent(l.id)}`,
        target: "_top",
        textContent: "Open",
      });
      link.setAttribute("aria-label", `Open ${l.name || l.id} in HighLevel`);
      const row = el(
        "tr",
        {},
        el("td", { textContent: l.name || l.id }),
        el("td", { textContent: STATUS_WORDS[l.status] || l.status.replaceAll("_", " ") }),
        el("td", { textContent: l.timeZone || "—" }),
        el("td", {}, link),
      );
      return { text: `${l.name || ""} ${l.id}`, row };
    });
    const body = el("tbody");
    const count = el("p", { className: "muted", role: "status" });
    const show = (match, typed) => {
      const found = typed ? rows.filter((r) => match(r.text)) : rows;
      body.replaceChildren(...found.slice(0, SHOWN).map((r) => r.row));
      count.textContent = !typed
        ? rows.length > SHOWN
          ? `The first ${SHOWN} of ${rows.length.toLocaleString("en-US")} sub-accounts. Type part of a name to find another.`
          : ""
        : found.length === 0
          ? `No sub-account matches “${typed}”.`
          : found.length > SHOWN
            ? `${SHOWN} of ${found.length.toLocaleString("en-US")} matching “${typed}”. Type more of the name to narrow it.`
            : `${found.length} matching “${typed}”.`;
    };
    show(() => true, "");
    const table = el("table", { className: "locations" }, head, body);
    $("agency-locations").replaceChildren(
      ...(rows.length > SHOWN ? [bs.finder("agency-find", "Find a sub-account", show)] : []),
      count,
      table,
    );
  }

  /** The calendars and team members of a sub-account, by name, as "calendar:ID" / "user:ID" options. */
  async function fillWhose(locationId, select) {
    if (!locationId) {
      select.replaceChildren(new Option("Choose a sub-account first", ""));
      return;
    }
    select.replaceChildren(new Option("Loading…", ""));
    try {
      const data = await call("GET", `/app/api/agency/locations/${encodeURIComponent(locationId)}/whose`);
      const group = (label, kind, items) =>
        Object.assign(el("optgroup", { label }, ...items.map((i) => new Option(i.name, `${kind}:${i.id}`))));
      select.replaceChildren(
        new Option("Choose a calendar or a team member…", ""),
        group("Calendars", "calendar", data.calendars),
        group("Team members", "user", data.teamMembers),
      );
    } catch (err) {
      select.replaceChildren(new Option("Could not load: reload the page", ""));
      message("rule-message", err.message, true);
    }
  }

  async function showRules() {
    const { rules } = await call("GET", "/app/api/rules");
    const box = $("rules");
    if (rules.length === 0) {
      box.replaceChildren(el("p", { className: "muted", textContent: "No rules yet." }));
      return;
    }
    const list = el("ul", { className: "rules" });
    for (const rule of rules) {
      const item = el("li", {}, el("span", { textContent: rule.label }));
      if (rule.name) item.append(el("span", { className: "muted", textContent: ` (${rule.name})` }));
      if (rule.own) {
        const del = el("button", { type: "button", className: "link-danger", textContent: "Delete" });
        del.setAttribute("aria-label", `Delete rule ${rule.label}`);
        del.addEventListener("click", async () => {
          clearErrors($("rule-form"), "rule-message");
          try {
            await call("DELETE", `/app/api/rules/${rule.id}`);
            message("rule-message", "Rule deleted. Blocks it already made stay.", false);
          } catch (err) {
            message("rule-message", err.message, true);
          }
          await showRules();
        });
        item.append(" ", del);
      }
      list.append(item);
    }
    box.replaceChildren(list);
  }

  const endpoint = (locationId, whose) => {
    const [kind, id] = whose.split(":");
    return {
      locationId,
      ...(kind === "calendar" ? { calendarId: id } : kind === "user" ? { assignedUserId: id } : {}),
    };
  };

  $("rule-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = $("rule-form");
    const body = {
      ...($("rule-name").value.trim() ? { name: $("rule-name").value.trim() } : {}),
      source: endpoint($("source-location").value, $("source-whose").value),
      targets: [endpoint($("target-location").value, $("target-whose").value)],
    };
    try {
      await call("POST", "/app/api/rules", body);
      clearErrors(form, "rule-message");
      message("rule-message", "Rule added.", false);
      $("rule-name").value = "";
      await showRules();
    } catch (err) {
      showErrors(form, err, "rule-message", (path) =>
        path.startsWith("source") ? "source" : path.startsWith("targets") ? "targets" : path,
      );
    }
  });
})();
