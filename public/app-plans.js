// Closures and blocked hours after the form: the preview, the progress of one being applied or
// undone (it updates itself until finished), and the list of those in this view's scope (made here
// or through the API), each with who made it and Undo.
"use strict";

(function () {
  const bs = window.BlockSlots;
  const { $, el, call, message } = bs;
  const t = bs.planTime;
  const plural = (n, word) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
  const view = { locations: [], canWrite: false, following: 0 };
  const POLL_MS = 1000;

  /** Shows the panel: the form for those who may use it, the list for everyone. */
  bs.showPlans = async function (options) {
    view.locations = options.locations;
    view.canWrite = options.canWrite;
    $("plan-form").hidden = !options.canWrite;
    if (options.canWrite) bs.planForm(options);
    else $("plans-intro").textContent = "Only agency admins can close sub-accounts or block hours across them.";
    $("plans-panel").hidden = false;
    await showList();
  };

  const whoseCount = (l) =>
    [l.calendars ? plural(l.calendars, "calendar") : "", l.teamMembers ? plural(l.teamMembers, "team member") : ""]
      .filter(Boolean)
      .join(" and ");

  // ---- preview ------------------------------------------------------------------------------
  /** Sub-accounts shown in full; the others fold away, so "Block this time" stays near for a whole agency. */
  const PLACES_SHOWN = 10;

  bs.showPreview = function (preview) {
    const places = preview.locations.length;
    $("plan-preview-total").textContent =
      `This makes ${plural(preview.total, "block")} in ${plural(places, "sub-account")}. Nothing has changed yet.`;
    const place = (l) => {
      const more = l.occurrences - l.first.length;
      return el(
        "div",
        { className: "place" },
        el("h4", { textContent: `${l.locationName} — ${t.zoneLabel(l.timeZone)}` }),
        el("p", {
          textContent: `${plural(l.blocks, "block")}: ${plural(l.occurrences, "time")} on ${whoseCount(l)}`,
        }),
        el(
          "ul",
          {},
          ...l.first.map((o) => el("li", { textContent: t.spanIn(o.startTime, o.endTime, l.timeZone) })),
          ...(more > 0 ? [el("li", { className: "muted", textContent: `and ${plural(more, "more time")}` })] : []),
        ),
      );
    };
    const rest = preview.locations.slice(PLACES_SHOWN);
    const folded = el(
      "details",
      { className: "more-places" },
      el("summary", {
        textContent: `${plural(rest.length, "more sub-account")} (${plural(
          rest.reduce((n, l) => n + l.blocks, 0),
          "block",
        )})`,
      }),
    );
    // Drawn when first opened: a thousand sub-accounts need not be drawn for a preview nobody unfolds.
    folded.addEventListener("toggle", () => {
      if (folded.open && folded.children.length === 1) folded.append(...rest.map(place));
    });
    $("plan-preview-places").replaceChildren(
      ...preview.locations.slice(0, PLACES_SHOWN).map(place),
      ...(rest.length ? [folded] : []),
    );
    const conflicts = preview.conflicts;
    const box = $("plan-preview-conflicts");
    if (!conflicts.length) {
      box.replaceChildren(el("p", { className: "good-note", textContent: "Nothing is booked in these hours." }));
    } else {
      const count = conflicts.length + preview.moreConflicts;
      box.replaceChildren(
        el("h4", { textContent: `Already in these hours (${count})` }),
        el("p", {
          className: "muted",
          textContent:
            "Applying does not cancel appointments: those customers still expect to come, so contact them if the time is closed.",
        }),
        el(
          "ul",
          { className: "conflicts" },
          ...conflicts.map((c) =>
            el(
              "li",
              {},
              el("strong", { textContent: `${c.locationName} · ${c.who}: ` }),
              `${c.kind === "appointment" ? "Appointment" : "Blocked time"}${c.title ? ` “${c.title}”` : ""}, ${t.spanIn(c.startTime, c.endTime, c.timeZone)} ${t.zoneShort(c.timeZone)}`,
            ),
          ),
          ...(preview.moreConflicts ? [el("li", { textContent: `and ${preview.moreConflicts} more` })] : []),
        ),
      );
    }
    $("plan-apply").textContent = `Block this time (${plural(preview.total, "block")})`;
    $("plan-preview").hidden = false;
    $("plan-preview").scrollIntoView({ block: "nearest" });
  };

  // ---- progress -----------------------------------------------------------------------------
  const STATUS = {
    applying: "Blocking time…",
    applied: "Done",
    applied_with_errors: "Done, with some failures",
    deleting: "Undoing…",
    deleted: "Undone",
  };

  function progressWords(plan) {
    const c = plan.counts;
    if (plan.status === "applying")
      return `${c.created} of ${plan.total} done, ${c.failed} failed, ${c.pending} remaining.`;
    if (plan.status === "applied") return `Done: ${plural(c.created, "block")} made.`;
    if (plan.status === "applied_with_errors")
      return `${plural(c.created, "block")} made; ${c.failed} could not be made (listed below). Undo and try again later, or block those by hand.`;
    if (plan.status === "deleting") return `Undoing: ${c.removed} deleted, ${c.pending} remaining.`;
    return c.failed
      ? `Partly undone: ${plural(c.removed, "block")} deleted, ${c.failed} could not be (listed below). “Try again” in the list deletes them now.`
      : "Undone: every block it made is deleted.";
  }

  const BLOCK_STATUS = { pending: "Waiting", created: "Made", failed: "Failed", removed: "Deleted" };
  // A block's error is HighLevel's answer to the app, not to the form: "check the form" would mislead.
  const blockErrorWords = (code) =>
    code === "invalid_request" || code === "upstream_error"
      ? "HighLevel did not accept it. Try again later, or change it in HighLevel by hand."
      : bs.words({ code }, 500);

  function blocksTable(plan) {
    if (!plan.blocks || !plan.blocks.length) return "";
    const head = el(
      "tr",
      {},
      ...["Sub-account", "Calendar or team member", "When (its local time)", "Status"].map((h) =>
        el("th", { scope: "col", textContent: h }),
      ),
    );
    const rows = plan.blocks.map((b) =>
      el(
        "tr",
        {},
        el("td", { textContent: b.locationName }),
        el("td", { textContent: b.who }),
        el("td", { textContent: `${t.spanIn(b.startTime, b.endTime, b.timeZone)} ${t.zoneShort(b.timeZone)}` }),
        el("td", {
          textContent: `${BLOCK_STATUS[b.status] || b.status}${b.error ? `: ${blockErrorWords(b.error)}` : ""}`,
        }),
      ),
    );
    return el(
      "div",
      {},
      el("table", { className: "locations" }, el("thead", {}, head), el("tbody", {}, ...rows)),
      plan.moreBlocks
        ? el("p", { className: "muted", textContent: `and ${plural(plan.moreBlocks, "more block")}` })
        : "",
    );
  }

  /** Follows one plan until nothing is left to do, then lists its blocks; a newer follow stops it. */
  bs.followPlan = async function (id, title) {
    const mine = ++view.following;
    $("plan-progress").hidden = false;
    $("plan-progress").scrollIntoView({ block: "nearest" });
    $("plan-progress-blocks").replaceChildren();
    $("plan-progress-heading").textContent = `“${title}”`;
    let plan;
    for (;;) {
      try {
        plan = await call("GET", `/app/api/plans/${encodeURIComponent(id)}?blocks=none`);
      } catch (err) {
        $("plan-progress-text").textContent = err.message;
        return;
      }
      if (mine !== view.following) return;
      const partly = plan.status === "deleted" && plan.counts.failed > 0;
      $("plan-progress-heading").textContent = `“${plan.title}”: ${partly ? "Partly undone" : STATUS[plan.status]}`;
      $("plan-progress-bar").value = plan.total ? (plan.total - plan.counts.pending) / plan.total : 1;
      $("plan-progress-text").textContent = progressWords(plan);
      if (plan.counts.pending === 0) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await showList();
    const full = await call("GET", `/app/api/plans/${encodeURIComponent(id)}`).catch(() => null);
    if (full && mine === view.following) $("plan-progress-blocks").replaceChildren(blocksTable(full));
  };

  // ---- the list -----------------------------------------------------------------------------
  function whereWords(targets) {
    const names = new Map(view.locations.map((l) => [l.id, l.name || l.id]));
    if (targets.some((x) => x.companyId)) return "All sub-accounts, every calendar";
    const where = [...new Set(targets.map((x) => names.get(x.locationId) || x.locationId))].join(", ");
    const calendars = targets.flatMap((x) => x.calendarIds || []).length;
    const users = targets.flatMap((x) => x.userIds || []).length;
    const whose = calendars ? plural(calendars, "calendar") : users ? plural(users, "team member") : "every calendar";
    return `${where}, ${whose}`;
  }

  async function showList() {
    let plans;
    try {
      ({ plans } = await call("GET", "/app/api/plans"));
    } catch (err) {
      message("plans-message", err.message, true);
      return;
    }
    if (!plans.length) {
      $("plans-list").replaceChildren(el("p", { className: "muted", textContent: "None yet." }));
      return;
    }
    const head = el(
      "tr",
      {},
      ...["Title", "When (each sub-account's local time)", "Where", "Status", ""].map((h) =>
        el("th", { scope: "col", textContent: h }),
      ),
    );
    const rows = plans.map((p) => {
      const details = el("button", { type: "button", className: "secondary", textContent: "Details" });
      details.setAttribute("aria-label", `Details of ${p.title}`);
      details.addEventListener("click", () => bs.followPlan(p.id, p.title));
      const actions = el("td", { className: "row-actions" }, details);
      if (view.canWrite && p.status !== "deleted" && p.status !== "deleting") {
        const undo = el("button", { type: "button", className: "danger", textContent: "Undo" });
        undo.setAttribute("aria-label", `Undo ${p.title}`);
        undo.addEventListener("click", () => askUndo(p));
        actions.append(undo);
      }
      const c = p.counts;
      // An undo that could not delete some blocks (HighLevel refused): asking again retries them.
      const partlyUndone = p.status === "deleted" && c.failed > 0;
      if (view.canWrite && partlyUndone) {
        const again = el("button", { type: "button", className: "danger", textContent: "Try again" });
        again.setAttribute("aria-label", `Delete the blocks of ${p.title} that are left`);
        again.addEventListener("click", () => undoAgain(p));
        actions.append(again);
      }
      const counts =
        p.status.startsWith("applied") || p.status === "applying"
          ? `${c.created} of ${p.total} made${c.failed ? `, ${c.failed} failed` : ""}`
          : `${c.removed} of ${p.total} deleted${c.failed ? `, ${c.failed} could not be` : ""}`;
      return el(
        "tr",
        {},
        el(
          "td",
          {},
          p.title,
          el("br"),
          el("span", { className: "muted", textContent: p.madeWith === "api" ? "made through the API" : `by ${p.by}` }),
        ),
        el("td", { textContent: t.scheduleWords(p.schedule) }),
        el("td", { textContent: whereWords(p.targets) }),
        el(
          "td",
          {},
          el("strong", { textContent: partlyUndone ? "Partly undone" : STATUS[p.status] }),
          el("br"),
          el("span", { className: "muted", textContent: counts }),
        ),
        actions,
      );
    });
    $("plans-list").replaceChildren(
      el("table", { className: "locations plans" }, el("thead", {}, head), el("tbody", {}, ...rows)),
    );
  }

  // ---- undo ---------------------------------------------------------------------------------
  let undoing = null;
  function askUndo(plan) {
    undoing = plan;
    $("plan-undo-heading").textContent = `Undo “${plan.title}”?`;
    $("plan-undo-what").textContent =
      `${t.scheduleWords(plan.schedule)} — ${whereWords(plan.targets)}. ${plural(plan.counts.created, "block")} made.`;
    $("plan-undo-dialog").showModal();
  }
  $("plan-undo-cancel").addEventListener("click", () => $("plan-undo-dialog").close());
  $("plan-undo-confirm").addEventListener("click", () => {
    $("plan-undo-dialog").close();
    void undoAgain(undoing);
  });

  /** Undo, or undo again: only blocks still in HighLevel are deleted; the rest are left alone. */
  async function undoAgain(plan) {
    try {
      await call("DELETE", `/app/api/plans/${encodeURIComponent(plan.id)}`);
      await bs.followPlan(plan.id, plan.title);
    } catch (err) {
      message("plans-message", err.message, true);
    }
  }
})();
