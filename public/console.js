// The sign-in form sends the browser's time zone, so the console shows times the operator reads at a glance.
(function () {
  var field = document.getElementById("tz");
  try {
    if (field) field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    // An old browser: the console shows UTC, and the operator can pick a zone.
  }
})();
