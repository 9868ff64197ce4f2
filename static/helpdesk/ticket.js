// Ticket page: choosing a canned reply fills the reply body with its text (data-body of the option).
(function () {
  function wire() {
    var select = document.getElementById("canned");
    if (!select) return;
    select.addEventListener("change", function () {
      if (select.value === "") return;
      var body = document.getElementById("id_body");
      if (body) body.value = select.options[select.selectedIndex].dataset.body;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();
