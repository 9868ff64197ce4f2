// "Add a line" on the contract and invoice forms: clone the empty form of a Django formset.
// A static file, not an inline script, so the Content-Security-Policy needs no exception.
(function () {
  const button = document.getElementById("add-line");
  if (!button) return;
  button.addEventListener("click", function () {
    const total = document.getElementById("id_lines-TOTAL_FORMS");
    const html = document.getElementById("empty-line").innerHTML.replace(/__prefix__/g, total.value);
    document.getElementById("line-rows").insertAdjacentHTML("beforeend", html);
    total.value = parseInt(total.value, 10) + 1;
  });
})();
