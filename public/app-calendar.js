// The sub-account view: its blocks and appointments on a calendar, in the sub-account's time zone.
"use strict";
/* global FullCalendar */

(function () {
  const bs = window.BlockSlots;
  const { $, call, message, clearErrors, showErrors } = bs;
  const view = { zone: "UTC", calendar: null, whose: new Map() };
  const COLORS = { calendar: "#475467", user: "#7a5af8", appointment: "#2e90fa" };
  const CHOSEN = "#b42318";

  /** "America/New_York" → "New York time (America/New_York)": what staff call it, and the exact zone. */
  const zoneLabel = (zone) => `${zone.split("/").pop().replaceAll("_", " ")} time (${zone})`;
  const format = () =>
    new Intl.DateTimeFormat(undefined, {
      timeZone: view.zone,
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
    });
  const span = (start, end) => format().formatRange(new Date(start), new Date(end));
  const whoseName = (e) =>
    view.whose.get(e.calendarId ? `calendar:${e.calendarId}` : `user:${e.assignedUserId}`) || "another calendar";

  bs.showLocation = async function () {
    const data = await call("GET", "/app/api/location");
    const loc = data.location;
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
    view.zone = loc.timeZone;
    $("tz-name").textContent = zoneLabel(view.zone);
    $("tz-note").hidden = false;
    fillWhose(data.calendars, data.teamMembers);
    $("calendar-panel").hidden = false;
    renderCalendar();
    await bs.showPlans({
      agency: false,
      locations: [{ id: loc.id, name: loc.name, timeZone: loc.timeZone }],
      whose: { calendars: data.calendars, teamMembers: data.teamMembers },
      canWrite: true,
    });
  };

  function fillWhose(calendars, teamMembers) {
    const select = $("whose");
    const group = (label, kind, items) => {
      const g = document.createElement("optgroup");
      g.label = label;
      for (const item of items) {
        view.whose.set(`${kind}:${item.id}`, item.name);
        g.append(new Option(item.name, `${kind}:${item.id}`));
      }
      return g;
    };
    select.replaceChildren(
      new Option("Choose a calendar or a team member…", ""),
      group("Calendars", "calendar", calendars),
      group("Team members", "user", teamMembers),
    );
  }

  function renderCalendar() {
    // A phone-width frame gets a list: a week grid is unreadable at that size.
    const narrow = window.matchMedia("(max-width: 640px)").matches;
    view.calendar = new FullCalendar.Calendar($("calendar"), {
      timeZone: view.zone,
      initialView: narrow ? "listWeek" : "timeGridWeek",
      headerToolbar: {
        start: "prev,next today",
        center: "title",
        end: narrow ? "" : "timeGridWeek,dayGridMonth,listWeek",
      },
      height: narrow ? "auto" : 680,
      scrollTime: "07:00:00",
      allDaySlot: false,
      nowIndicator: true,
      selectable: true,
      selectMirror: true,
      events: loadEvents,
      select: (info) => openBlockDialog(Date.parse(info.startStr), Date.parse(info.endStr)),
      eventClick: (info) => clickEvent(info.event.extendedProps.view),
    });
    view.calendar.render();
  }

  async function loadEvents(info) {
    // The window as instants: startStr carries the zone's offset, so it means the same to the API.
    const query = new URLSearchParams({
      start: new Date(Date.parse(info.startStr)).toISOString(),
      end: new Date(Date.parse(info.endStr)).toISOString(),
    });
    try {
      const { events } = await call("GET", `/app/api/calendar?${query}`);
      return events.map((e) => {
        const kind = e.kind === "appointment" ? "appointment" : e.calendarId ? "calendar" : "user";
        const title = kind === "appointment" ? e.title || "Appointment" : e.title || "Blocked";
        return {
          id: e.id,
          title: `${title} · ${whoseName(e)}`,
          start: e.startTime,
          end: e.endTime,
          color: bs.deleting.isChosen(e.id) ? CHOSEN : COLORS[kind],
          className: `event-${kind}`,
          extendedProps: { view: e, color: COLORS[kind] },
        };
      });
    } catch (err) {
      message("calendar-message", err.message, true);
      return [];
    }
  }

  const refresh = () => view.calendar.refetchEvents();

  // ---- blocking time ---------------------------------------------------------------------
  function openBlockDialog(start, end) {
    bs.deleting.hideToast();
    message("calendar-message", "", false);
    const form = $("block-form");
    clearErrors(form, "block-message");
    if (start && end) {
      $("startTime").value = bs.wallFromInstant(start, view.zone);
      $("endTime").value = bs.wallFromInstant(end, view.zone);
    }
    $("block-dialog").showModal();
    $("whose").focus();
  }

  function closeBlockDialog() {
    $("block-dialog").close();
    view.calendar.unselect();
  }

  const timeIn = (value) => {
    if (!value) return "";
    const ms = bs.instantFromWall(value, view.zone);
    return Number.isNaN(ms) ? value : new Date(ms).toISOString();
  };

  async function submitBlock(event) {
    event.preventDefault();
    const form = $("block-form");
    const [kind, id] = $("whose").value.split(":");
    const body = {
      ...(kind === "calendar" ? { calendarId: id } : kind === "user" ? { assignedUserId: id } : {}),
      startTime: timeIn($("startTime").value),
      endTime: timeIn($("endTime").value),
      ...($("title").value.trim() ? { title: $("title").value.trim() } : {}),
    };
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const slot = await call("POST", "/app/api/block-slots", body);
      closeBlockDialog();
      $("title").value = "";
      message("calendar-message", `Blocked ${whoseName(slot)}, ${span(slot.startTime, slot.endTime)}.`, false);
      refresh();
    } catch (err) {
      const place = (path) =>
        /calendarId|assignedUserId/.test(path)
          ? "whose"
          : path
              .split(".")
              .pop()
              .replace(/^body$/, "");
      showErrors(form, err, "block-message", place);
    } finally {
      button.disabled = false;
    }
  }

  // ---- a click on an event: appointments are explained, blocks are asked about (app-delete.js) --
  function clickEvent(e) {
    bs.deleting.hideToast();
    message("calendar-message", "", false);
    if (e.kind === "appointment") {
      message(
        "calendar-message",
        `"${e.title || "Appointment"}" is an appointment with a customer. Appointments can't be changed here.`,
        true,
      );
      return;
    }
    bs.deleting.clicked(e);
  }

  /** Shows the blocks chosen for deleting together in red (app-delete.js keeps the choice). */
  function markChosen(ids) {
    for (const event of view.calendar.getEvents()) {
      event.setProp("color", ids.has(event.id) ? CHOSEN : event.extendedProps.color);
    }
  }

  bs.cal = { whoseName, span, refresh: () => refresh(), markChosen };
  $("open-block").addEventListener("click", () => openBlockDialog());
  $("block-form").addEventListener("submit", submitBlock);
  $("block-cancel").addEventListener("click", closeBlockDialog);
})();
