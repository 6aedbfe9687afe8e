// "Print" buttons (data-print) without inline handlers, which the Content-Security-Policy forbids.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) { window.print(); }
});
