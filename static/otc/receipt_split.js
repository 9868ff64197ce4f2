// The receipt split form: running total and "use this invoice" buttons (receipt_detail.html).
// A static file, not an inline script, so the Content-Security-Policy needs no exception.
(function () {
  const form = document.getElementById("split-form");
  if (!form) return;
  const places = parseInt(form.dataset.places, 10) || 0;
  const cents = (text) => { const t = (text || "").replace(/,/g, "").trim(); if (!/^\d+(\.\d+)?$/.test(t)) return 0; const [i, f = ""] = t.split("."); return parseInt(i, 10) * 10 ** places + parseInt((f + "0000").slice(0, places) || "0", 10); };
  const show = (units) => { const neg = units < 0; units = Math.abs(units); const i = Math.floor(units / 10 ** places); const f = places ? "." + String(units % 10 ** places).padStart(places, "0") : ""; return (neg ? "-" : "") + i.toLocaleString("en-US") + f; };
  const left = cents(form.dataset.left);
  function update() {
    let total = 0;
    form.querySelectorAll(".alloc-amount").forEach((input) => { total += cents(input.value); });
    document.getElementById("split-total").textContent = show(total);
    const rest = document.getElementById("split-left");
    rest.textContent = show(left - total);
    rest.classList.toggle("text-danger", left - total < 0);
  }
  form.addEventListener("input", update);
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".use-invoice");
    if (!button) return;
    const rows = Array.from(form.querySelectorAll("tbody tr"));
    const row = rows.find((r) => !r.querySelector(".alloc-invoice").value) || rows[rows.length - 1];
    let used = 0;
    form.querySelectorAll(".alloc-amount").forEach((input) => { used += cents(input.value); });
    const due = cents(button.dataset.due);
    row.querySelector(".alloc-invoice").value = button.dataset.number;
    row.querySelector(".alloc-amount").value = show(Math.max(Math.min(due, left - used), 0)).replace(/,/g, "");
    update();
  });
  update();
})();
