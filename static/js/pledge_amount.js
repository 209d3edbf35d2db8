// The pledge page: a suggested-amount chip fills in the amount field, and the split shows
// its running total (the server checks it again; this only helps while typing).
(function () {
  "use strict";
  document.querySelectorAll(".chip[data-amount]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      document.getElementById("id_amount").value = chip.dataset.amount;
    });
  });

  var total = document.querySelector("[data-split-total]");
  if (!total) return;
  var shares = document.querySelectorAll(".split input[name^='share_']");
  function showTotal() {
    var sum = 0;
    var typed = false;
    shares.forEach(function (input) {
      var value = parseFloat(input.value);
      if (input.value.trim() !== "") typed = true;
      if (!isNaN(value)) sum += value;
    });
    total.hidden = !typed;
    total.querySelector("output").textContent = String(Math.round(sum * 100) / 100);
  }
  shares.forEach(function (input) {
    input.addEventListener("input", showTotal);
  });
  showTotal();
})();
