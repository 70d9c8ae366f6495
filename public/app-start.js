// Signs the custom page in through HighLevel's parent window, then shows the sub-account or agency view.
"use strict";

(function () {
  const { state, status, call } = window.BlockSlots;

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
        state.session = session;
        await (session.locationId ? window.BlockSlots.showLocation() : window.BlockSlots.showAgency(session));
        status("");
      } catch (err) {
        status(signInWords(err), true);
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

  /** A refused sign-in's own explanation says what to do (reload, check the Shared Secret). */
  function signInWords(err) {
    const problem = err.problem || {};
    return problem.code === "unauthorized" && problem.detail ? problem.detail : err.message;
  }

  requestUserData();
})();
