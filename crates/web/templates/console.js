// The tenant form's live preview: while the branding is edited, the form is sent to the
// preview frame (the "Preview" button does the same without this script).
(function () {
  "use strict";
  var button = document.getElementById("preview-button");
  var branding = document.querySelector("textarea[name=branding]");
  if (!button || !branding || !button.form || !button.form.requestSubmit) return;
  var timer = null;
  branding.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { button.form.requestSubmit(button); }, 400);
  });
})();
