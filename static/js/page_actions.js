// Small behaviours any page may ask for with a data attribute (no inline handlers: the
// Content-Security-Policy allows scripts from Slate's own static files only).
//   data-print   the button prints the page (receipts)
// (Share links select themselves on focus through static/js/share.js.)
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) window.print();
  });
})();
