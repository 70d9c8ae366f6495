// The custom page inside HighLevel: shared pieces. No framework and no build step; the views
// (app-calendar.js, app-agency.js) and the sign-in (app-start.js) use what this file exposes.
"use strict";

window.BlockSlots = (function () {
  const $ = (id) => document.getElementById(id);
  const state = { csrf: null, locationId: null, session: null };

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
      const err = new Error(words(data || {}, res.status));
      err.problem = data || {};
      throw err;
    }
    return data;
  }

  // ---- the API's codes and fields in the page's own words ------------------------------
  // The API's messages are written for integrators ("must be after startTime"); office staff get
  // sentences about what they see on the page.
  const CODE_WORDS = {
    unauthorized: "Your sign-in here has ended. Reload the page inside HighLevel.",
    forbidden: "This page can't do that for you. Reload it; if it keeps happening, ask an agency admin.",
    not_found: "That is already gone: someone may have deleted it in HighLevel. The calendar is up to date now.",
    not_a_block_slot: "That is an appointment with a customer. Appointments can't be deleted here.",
    rate_limited: "HighLevel is busy right now. Wait a minute and try again.",
    too_many_attempts: "Too many tries. Wait a minute and try again.",
    reauthorization_required:
      "HighLevel no longer accepts this sub-account's connection. Reinstall the app from the marketplace.",
    location_not_installed: "The app is not installed in that sub-account.",
    location_inactive: "That sub-account is not active in HighLevel.",
    location_connecting: "That sub-account is still being connected. Try again in a minute.",
    upstream_error: "HighLevel did not accept that. Check the times and try again.",
    service_unavailable: "The app is not reachable right now. Try again in a minute.",
  };

  function words(problem, httpStatus) {
    return (
      CODE_WORDS[problem.code] ||
      (httpStatus >= 500
        ? "Something went wrong on our side. Try again; if it keeps happening, reload the page."
        : "That did not work. Check the form and try again.")
    );
  }

  /** One field error of the API as a sentence; `field` is the last part of its path. */
  function fieldWords(field, message) {
    const m = String(message || "");
    if (/after start/.test(m)) return "The end must be after the start.";
    if (field === "startTime") return "Enter the date and time it starts.";
    if (field === "endTime") return "Enter the date and time it ends.";
    if (field === "calendarId" || field === "assignedUserId") return "Choose a calendar or a team member.";
    if (field === "locationId") return "Choose a sub-account.";
    if (field === "title" || field === "name")
      return /at most/.test(m) ? "That is too long: keep it shorter." : "Use plain text only.";
    if (/differ from the source/.test(m)) return "Choose a different calendar or team member than the source.";
    if (/listed twice/.test(m)) return "That target is already in the rule.";
    return "Check this field.";
  }

  function message(id, text, bad) {
    const el = $(id);
    el.textContent = text;
    el.className = `form-message ${bad ? "bad" : "good"}`;
  }

  /** Clears every message of a form: each action starts clean. */
  function clearErrors(form, messageId) {
    for (const el of form.querySelectorAll(".error")) el.textContent = "";
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    if (messageId) message(messageId, "", false);
  }

  /**
   * The API's field errors beside their fields. `place(path)` names the element id a path belongs
   * to (its "-error" paragraph and its input); what has no place goes to the form's message.
   */
  function showErrors(form, err, messageId, place) {
    clearErrors(form, messageId);
    const problem = err.problem || {};
    let placed = 0;
    for (const e of problem.errors || []) {
      const id = place(e.path);
      const target = id && $(`${id}-error`);
      if (!target) continue;
      // Several fields can share one message (a rule's sub-account and its calendar): the first
      // problem is the one to fix first.
      if (!target.textContent) target.textContent = fieldWords(e.path.split(".").pop(), e.message);
      const input = $(id);
      if (input) input.setAttribute("aria-invalid", "true");
      placed += 1;
    }
    if (!placed) message(messageId, err.problem ? err.message : words({}, 500), true);
  }

  // ---- wall-clock time in a named zone, without a date library ---------------------------
  const partsFormat = (zone) =>
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });

  /** The zone's wall clock at `ms` as if it were UTC: the difference to `ms` is the zone's offset. */
  function wallAsUtc(ms, zone) {
    const p = Object.fromEntries(
      partsFormat(zone)
        .formatToParts(new Date(ms))
        .map((x) => [x.type, x.value]),
    );
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  }

  /** "2030-05-01T10:00" (a datetime-local value) read in `zone` → epoch ms; NaN when incomplete. */
  function instantFromWall(value, zone) {
    const guess = Date.parse(`${value}:00Z`);
    if (Number.isNaN(guess)) return NaN;
    // Twice: the offset at the guessed instant can differ from the one at the real instant (DST).
    const first = guess - (wallAsUtc(guess, zone) - guess);
    return guess - (wallAsUtc(first, zone) - first);
  }

  /** Epoch ms → the datetime-local value of that instant in `zone`. */
  function wallFromInstant(ms, zone) {
    return new Date(wallAsUtc(ms, zone)).toISOString().slice(0, 16);
  }

  /** An element with properties and children: the views build their lists and tables with it. */
  const el = (tag, props, ...children) => {
    const node = Object.assign(document.createElement(tag), props || {});
    node.append(...children);
    return node;
  };

  /**
   * A search field for a long list of sub-accounts (an agency may have a thousand): `onQuery(match)`
   * runs as the user types, with a test that is true of a text holding every word typed.
   */
  function finder(id, label, onQuery) {
    const input = el("input", { id, type: "search", placeholder: "Part of a name, or an id", autocomplete: "off" });
    const matcher = () => {
      const typed = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      return (text) => typed.every((w) => text.toLowerCase().includes(w));
    };
    input.addEventListener("input", () => onQuery(matcher(), input.value.trim()));
    return el("div", { className: "finder" }, el("label", { htmlFor: id, textContent: label }), input);
  }

  return {
    $,
    el,
    state,
    status,
    call,
    message,
    clearErrors,
    showErrors,
    words,
    instantFromWall,
    wallFromInstant,
    finder,
  };
})();
