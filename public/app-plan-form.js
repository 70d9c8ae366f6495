// "Close locations / block hours": which sub-accounts, whose time, when and how it repeats; then
// a preview (blocks per sub-account, what is already booked) before anything is applied.
"use strict";

(function () {
  const bs = window.BlockSlots;
  const { $, el, call, message } = bs;
  const t = bs.planTime;
  /** Set by init: the view's sub-accounts, and for a sub-account page its own calendars and people. */
  const ctx = { agency: false, locations: [], companyId: null, whose: new Map(), listing: 0 };
  const skipped = new Set();
  /** Sub-accounts offered to tick at once; the rest are found by name (an agency may have a thousand). */
  const OFFERED = 40;
  let lastBody = null;

  const radio = (name) => document.querySelector(`input[name="${name}"]:checked`).value;
  const chosenLocations = () => {
    if (!ctx.agency) return ctx.locations;
    if (radio("plan-where") === "all") return ctx.locations;
    const ids = new Set([...$("plan-locations").querySelectorAll("input:checked")].map((i) => i.value));
    return ctx.locations.filter((l) => ids.has(l.id));
  };

  bs.planForm = function init(options) {
    Object.assign(ctx, options);
    if (options.whose) ctx.whose = new Map([[options.locations[0].id, options.whose]]);
    $("plan-where-step").hidden = !ctx.agency;
    $("plan-whose-number").textContent = ctx.agency ? "2." : "1.";
    $("plan-when-number").textContent = ctx.agency ? "3." : "2.";
    const zones = [...new Set(ctx.locations.map((l) => l.timeZone).filter(Boolean))];
    $("plan-zone-note").textContent = ctx.agency
      ? `Times are each sub-account's own local time: 09:00 means 09:00 in ${zones.map((z) => z.split("/").pop().replaceAll("_", " ")).join(" and in ") || "each sub-account"}.`
      : `Times are ${t.zoneLabel(ctx.locations[0].timeZone)}, this sub-account's time zone, wherever you are.`;
    $("plan-all-count").textContent = `(${ctx.locations.length})`;
    $("plan-locations").replaceChildren(
      ...(ctx.agency ? ctx.locations : []).map((l) =>
        el(
          "label",
          {},
          el("input", { type: "checkbox", value: l.id }),
          ` ${l.name || l.id} `,
          el("span", { className: "muted", textContent: `— ${t.zoneLabel(l.timeZone) || "time zone not known yet"}` }),
        ),
      ),
    );
    offerLocations();
    $("plan-days").replaceChildren(
      el("legend", { textContent: "On" }),
      ...t.DAYS.map(([code, name]) => el("label", {}, el("input", { type: "checkbox", value: code }), ` ${name}`)),
    );
  };

  /**
   * More sub-accounts than fit the list: a search field above it, and the list shows those ticked
   * plus the first ones matching what is typed.
   */
  function offerLocations() {
    const labels = [...$("plan-locations").children];
    const box = $("plan-locations-find");
    if (labels.length <= OFFERED) return box.replaceChildren();
    const count = el("p", { className: "muted", role: "status" });
    const show = (match, typed) => {
      let offered = 0;
      for (const label of labels) {
        const ticked = label.querySelector("input").checked;
        const offer = !ticked && (!typed || match(label.textContent)) && offered < OFFERED;
        if (offer) offered++;
        label.hidden = !ticked && !offer;
      }
      const matching = typed ? labels.filter((l) => match(l.textContent)) : labels;
      const listed = matching.filter((l) => !l.hidden).length;
      const ticked = labels.filter((l) => l.querySelector("input").checked).length;
      const found =
        matching.length === 0
          ? `No sub-account matches “${typed}”.`
          : listed < matching.length
            ? `${listed} of ${matching.length.toLocaleString("en-US")} ${typed ? `matching “${typed}”` : "sub-accounts"} listed: type part of a name to find another.`
            : typed
              ? `${matching.length} matching “${typed}”.`
              : "";
      count.textContent = `${found}${ticked ? ` ${ticked} ticked, always listed.` : ""}`.trim();
    };
    let query = [() => true, ""];
    const find = (match, typed) => show(...(query = [match, typed]));
    box.replaceChildren(bs.finder("plan-locations-search", "Find a sub-account", find), count);
    // A box ticked or unticked: the count says so, and an unticked one may leave the list.
    $("plan-locations").onchange = () => show(...query);
    show(...query);
  }

  // ---- the form's parts appear as they are needed -----------------------------------------
  $("plan-form").addEventListener("change", (event) => {
    // Searching the list of sub-accounts changes nothing in the plan.
    if (event.target.closest("#plan-locations-find")) return;
    const id = event.target.id || event.target.name;
    if (id === "plan-where") {
      $("plan-locations").hidden = radio("plan-where") !== "some";
      $("plan-locations-find").hidden = $("plan-locations").hidden;
    }
    if (["plan-where", "plan-whose"].includes(id) || event.target.closest("#plan-locations")) void whoseList();
    const repeat = $("plan-repeat").value;
    $("plan-repeat-end").hidden = repeat === "none";
    $("plan-days").hidden = repeat !== "weekly";
    $("plan-skip-field").hidden = repeat === "none";
    const byCount = $("plan-repeat-how").value === "count";
    $("plan-repeat-until").hidden = byCount;
    $("plan-repeat-count").hidden = !byCount;
  });
  // Anything changed after a preview makes it stale: it is hidden until previewed again.
  $("plan-form").addEventListener("input", (event) => {
    if (event.target.closest("#plan-locations-find")) return;
    $("plan-preview").hidden = true;
  });

  async function whoseOf(locationId) {
    if (!ctx.whose.has(locationId)) {
      ctx.whose.set(locationId, await call("GET", `/app/api/agency/locations/${encodeURIComponent(locationId)}/whose`));
    }
    return ctx.whose.get(locationId);
  }

  /** The calendars (or team members) of the chosen sub-accounts, as checkboxes grouped by sub-account. */
  async function whoseList() {
    const kind = radio("plan-whose");
    const box = $("plan-whose-list");
    box.hidden = kind === "all";
    if (kind === "all") return;
    const kept = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
    box.replaceChildren(el("p", { className: "muted", textContent: "Loading…" }));
    // Sub-accounts are read side by side; a newer choice made meanwhile wins.
    const mine = ++ctx.listing;
    const groups = await Promise.all(
      chosenLocations().map(async (l) => {
        try {
          const whose = await whoseOf(l.id);
          const items = kind === "calendars" ? whose.calendars : whose.teamMembers;
          const boxes = items.map((i) => {
            const value = `${l.id}|${i.id}`;
            return el("label", {}, el("input", { type: "checkbox", value, checked: kept.has(value) }), ` ${i.name}`);
          });
          const none = el("span", {
            className: "muted",
            textContent: kind === "calendars" ? "No calendars" : "No team members",
          });
          return el(
            "div",
            { className: "group" },
            ctx.agency ? el("strong", { textContent: l.name || l.id }) : "",
            ...(boxes.length ? boxes : [none]),
          );
        } catch (err) {
          return el("p", { className: "error", textContent: `${l.name || l.id}: ${err.message}` });
        }
      }),
    );
    if (mine !== ctx.listing) return;
    box.replaceChildren(
      ...(groups.length ? groups : [el("p", { className: "muted", textContent: "Choose sub-accounts first." })]),
    );
  }

  // ---- skipped dates ------------------------------------------------------------------------
  function showSkipped() {
    $("plan-skipped").replaceChildren(
      ...[...skipped].sort().map((d) => {
        const remove = el("button", { type: "button", className: "link-danger", textContent: "✕" });
        remove.setAttribute("aria-label", `Don't skip ${t.localWords(d)}`);
        remove.addEventListener("click", () => {
          skipped.delete(d);
          $("plan-preview").hidden = true;
          showSkipped();
        });
        return el("li", {}, t.localWords(d), " ", remove);
      }),
    );
  }
  $("plan-skip-add").addEventListener("click", () => {
    if (!$("plan-skip").value) return;
    skipped.add($("plan-skip").value);
    $("plan-skip").value = "";
    $("plan-preview").hidden = true;
    showSkipped();
  });

  // ---- the plan, checked here first where the page can say it better ---------------------
  function build() {
    const problems = {};
    const locations = chosenLocations();
    if (ctx.agency && !locations.length) problems["plan-locations"] = "Choose at least one sub-account.";
    const kind = radio("plan-whose");
    const picked = [...$("plan-whose-list").querySelectorAll("input:checked")].map((i) => i.value.split("|"));
    let targets;
    if (kind === "all") {
      targets =
        ctx.agency && radio("plan-where") === "all"
          ? [{ companyId: ctx.companyId, calendars: "all" }]
          : locations.map((l) => ({ locationId: l.id, calendars: "all" }));
    } else {
      const ids = new Set(locations.map((l) => l.id));
      const byLocation = new Map();
      for (const [locationId, id] of picked) {
        if (ids.has(locationId)) byLocation.set(locationId, [...(byLocation.get(locationId) || []), id]);
      }
      const field = kind === "calendars" ? "calendarIds" : "userIds";
      targets = [...byLocation].map(([locationId, list]) => ({ locationId, [field]: list }));
      if (!targets.length && locations.length) {
        problems["plan-whose"] =
          kind === "calendars" ? "Choose at least one calendar." : "Choose at least one team member.";
      }
    }
    const repeat = $("plan-repeat").value;
    const how = $("plan-repeat-how").value;
    const days = [...$("plan-days").querySelectorAll("input:checked")].map((i) => i.value);
    if (repeat === "weekly" && !days.length) problems["plan-repeat"] = "Choose at least one day of the week.";
    else if (repeat !== "none" && how === "until" && !$("plan-repeat-until").value)
      problems["plan-repeat"] = "Choose the last date it repeats on.";
    else if (repeat !== "none" && how === "count" && !(+$("plan-repeat-count").value >= 1))
      problems["plan-repeat"] = "Enter how many times, 1 or more.";
    if (!$("plan-start").value) problems["plan-start"] = "Enter the date and time it starts.";
    if (!$("plan-end").value) problems["plan-end"] = "Enter the date and time it ends.";
    const rule =
      repeat === "none" || problems["plan-repeat"]
        ? undefined
        : t.rrule({ repeat, days, how, until: $("plan-repeat-until").value, count: +$("plan-repeat-count").value });
    const schedule = { start: $("plan-start").value, end: $("plan-end").value };
    if (rule) schedule.rrule = rule;
    if (rule && skipped.size) schedule.exdates = [...skipped].sort();
    return {
      problems,
      body: { title: $("plan-title").value.trim() || "Closed", targets, schedule, timeZone: "location" },
    };
  }

  /** Where an API field error is shown, and in which words. */
  function placeOf(path, text) {
    if (path.startsWith("schedule.rrule"))
      return ["plan-repeat", "This repeat can't be used: check its days and its last date."];
    if (path.startsWith("schedule.exdates")) return ["plan-skip", "Check the skipped dates."];
    if (path === "schedule.end" && /after start/.test(text)) return ["plan-end", "The end must be after the start."];
    if (path === "schedule.end" && /at most/.test(text))
      return ["plan-end", "One closure lasts at most 31 days. For longer, use Repeat."];
    if (path === "schedule.start" || path === "schedule.end")
      return [path === "schedule.start" ? "plan-start" : "plan-end", "Enter a real date and time."];
    if (path === "title") return ["plan-title", "Use a shorter title in plain text."];
    if (/calendarIds/.test(path))
      return ["plan-whose", "A chosen calendar no longer exists in HighLevel. Reload the page."];
    if (path === "targets" && /no blocks/.test(text))
      return ["plan-message", "That makes no blocks: every date is skipped, or there are no calendars to block."];
    if (path.startsWith("targets")) return [ctx.agency ? "plan-locations" : "plan-whose", "Check who this is for."];
    return ["plan-message", "Check the form."];
  }

  function clear() {
    for (const p of $("plan-form").querySelectorAll(".error")) p.textContent = "";
    for (const i of $("plan-form").querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
    message("plan-message", "", false);
  }

  function show(problems) {
    for (const [id, text] of Object.entries(problems)) {
      if (id === "plan-message") message(id, text, true);
      else if (!$(`${id}-error`).textContent) $(`${id}-error`).textContent = text;
      const input = $(id);
      if (input && /^(INPUT|SELECT)$/.test(input.tagName)) input.setAttribute("aria-invalid", "true");
    }
  }

  /** The API's refusal in the page's words, beside the field it is about. */
  function refused(err) {
    const problem = err.problem || {};
    if (problem.code === "plan_too_large") {
      const count = /makes ([^ ]+(?: than [\d,]+)?) blocks/.exec(problem.detail || "");
      return show({
        "plan-message": `That is too many blocks at once${count ? ` (${count[1]})` : ""}: one plan can make at most 10,000. Choose fewer sub-accounts or calendars, or repeat fewer times.`,
      });
    }
    const placed = {};
    for (const e of problem.errors || []) {
      const [id, text] = placeOf(String(e.path).replace(/^body\./, ""), e.message);
      placed[id] = placed[id] || text;
    }
    show(Object.keys(placed).length ? placed : { "plan-message": err.message });
  }

  $("plan-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clear();
    const { problems, body } = build();
    if (Object.keys(problems).length) return show(problems);
    $("plan-preview-button").disabled = true;
    message("plan-message", "Checking every calendar…", false);
    try {
      const preview = await call("POST", "/app/api/plans/preview", body);
      message("plan-message", "", false);
      lastBody = body;
      bs.showPreview(preview, body);
    } catch (err) {
      message("plan-message", "", false);
      refused(err);
    } finally {
      $("plan-preview-button").disabled = false;
    }
  });

  $("plan-change").addEventListener("click", () => {
    $("plan-preview").hidden = true;
    $("plan-start").focus();
  });

  $("plan-apply").addEventListener("click", async () => {
    if (!lastBody) return;
    $("plan-apply").disabled = true;
    try {
      const plan = await call("POST", "/app/api/plans", lastBody);
      $("plan-preview").hidden = true;
      await bs.followPlan(plan.id, lastBody.title);
    } catch (err) {
      $("plan-preview").hidden = true;
      refused(err);
    } finally {
      $("plan-apply").disabled = false;
    }
  });
})();
