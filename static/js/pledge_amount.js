// The pledge page's suggested amounts: a chip fills in the amount field.
(function () {
  "use strict";
  document.querySelectorAll(".chip[data-amount]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      document.getElementById("id_amount").value = chip.dataset.amount;
    });
  });
})();
