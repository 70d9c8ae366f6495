// Deleting blocks from the calendar: one by a click, or several chosen together; always confirmed,
// then undoable for a few seconds. Appointments never get here (app-calendar.js explains them).
"use strict";

(function () {
  const bs = window.BlockSlots;
  const { $, call, message } = bs;
  const UNDO_SECONDS = 10;
  const state = { pending: [], choosing: false, chosen: new Map(), undo: null };
  const name = (e) => `"${e.title || "Blocked time"}"`;
  const describe = (list) => (list.length === 1 ? name(list[0]) : `${list.length} blocks`);

  function clicked(e) {
    if (state.choosing) {
      if (state.chosen.has(e.id)) state.chosen.delete(e.id);
      else state.chosen.set(e.id, e);
      showChoice();
      return;
    }
    ask([e]);
  }

  function ask(list) {
    state.pending = list;
    $("delete-dialog-heading").textContent = list.length === 1 ? "Delete this block?" : `Delete ${list.length} blocks?`;
    $("delete-what").replaceChildren(
      ...list.map((e) => {
        const line = document.createElement("span");
        line.className = "delete-line";
        line.textContent = `${e.title || "Blocked time"} · ${bs.cal.whoseName(e)}, ${bs.cal.span(e.startTime, e.endTime)}`;
        return line;
      }),
    );
    $("delete-confirm").textContent = list.length === 1 ? "Delete block" : `Delete ${list.length} blocks`;
    message("delete-message", "", false);
    $("delete-dialog").showModal();
  }

  /** One by one: each block is checked to be a block by the API; one that is gone does not stop the rest. */
  async function confirmDelete() {
    const button = $("delete-confirm");
    button.disabled = true;
    const deleted = [];
    const failed = [];
    for (const e of state.pending) {
      try {
        await call("DELETE", `/app/api/block-slots/${encodeURIComponent(e.id)}`);
        deleted.push(e);
      } catch (err) {
        failed.push(err);
      }
    }
    button.disabled = false;
    $("delete-dialog").close();
    stopChoosing();
    if (deleted.length) showToast(`Deleted ${describe(deleted)}.`, () => restore(deleted));
    if (failed.length) message("calendar-message", failed[0].message, true);
    bs.cal.refresh();
  }

  /** Undo makes the same blocks again (same calendar or person, times and title); HighLevel gives new ids. */
  async function restore(list) {
    hideToast();
    let restored = 0;
    for (const e of list) {
      try {
        await call("POST", "/app/api/block-slots", {
          ...(e.calendarId ? { calendarId: e.calendarId } : { assignedUserId: e.assignedUserId }),
          startTime: e.startTime,
          endTime: e.endTime,
          ...(e.title ? { title: e.title } : {}),
        });
        restored += 1;
      } catch (err) {
        message("calendar-message", `Could not restore ${name(e)}: ${err.message}`, true);
      }
    }
    if (restored === list.length) message("calendar-message", `Restored ${describe(list)}.`, false);
    bs.cal.refresh();
  }

  function showToast(text, onUndo) {
    hideToast();
    $("toast-text").textContent = text;
    $("toast").hidden = false;
    state.undo = { onUndo, timer: setTimeout(hideToast, UNDO_SECONDS * 1000) };
  }

  function hideToast() {
    if (state.undo) clearTimeout(state.undo.timer);
    state.undo = null;
    $("toast").hidden = true;
  }

  // ---- choosing several blocks -----------------------------------------------------------
  function showChoice() {
    const n = state.chosen.size;
    $("choose-count").textContent = n === 0 ? "Click the blocks to delete." : `${n} block${n > 1 ? "s" : ""} chosen.`;
    $("choose-delete").disabled = n === 0;
    bs.cal.markChosen(new Set(state.chosen.keys()));
  }

  function startChoosing() {
    hideToast();
    message("calendar-message", "", false);
    state.choosing = true;
    state.chosen.clear();
    $("choose-start").hidden = true;
    $("choose-bar").hidden = false;
    showChoice();
  }

  function stopChoosing() {
    state.choosing = false;
    state.chosen.clear();
    $("choose-start").hidden = false;
    $("choose-bar").hidden = true;
    bs.cal.markChosen(new Set());
  }

  bs.deleting = { clicked, hideToast, isChosen: (id) => state.chosen.has(id) };
  $("toast-undo").addEventListener("click", () => state.undo && state.undo.onUndo());
  $("delete-confirm").addEventListener("click", confirmDelete);
  $("delete-cancel").addEventListener("click", () => $("delete-dialog").close());
  $("choose-start").addEventListener("click", startChoosing);
  $("choose-cancel").addEventListener("click", stopChoosing);
  $("choose-delete").addEventListener("click", () => ask([...state.chosen.values()]));
})();
