// Progressive enhancement only: the form works the same without this file.
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form) return;
  var bar = form.querySelector(".progress progress");
  var count = form.querySelector(".js-answered");
  function update() {
    var names = {};
    var answered = 0;
    form.querySelectorAll('input[type="radio"][name^="a_"]').forEach(function (input) {
      names[input.name] = names[input.name] || input.checked;
    });
    Object.keys(names).forEach(function (name) { if (names[name]) answered += 1; });
    if (bar) bar.value = answered;
    if (count) count.textContent = String(answered);
  }
  form.addEventListener("change", update);
  update();
  // After a failed submission, move focus to the error summary so it is read first.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
