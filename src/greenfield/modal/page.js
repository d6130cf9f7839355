(function () {
  "use strict";
  // The checkout page in BTCPay's modal (/invoice?id=ID&view=modal): tells
  // the shop's window "loaded", "close" and each status in Greenfield's words.
  var shop = window.parent;
  if (!shop || shop === window) return;
  var invoiceId = new URLSearchParams(window.location.search).get("id");
  var words = { "new": "New", paid: "Processing", confirmed: "Settled", expired: "Expired", invalid: "Invalid" };
  var status = document.getElementById("status");
  var last = null;

  function report() {
    var found = /(?:^|\s)status-(\w+)/.exec(status.className);
    var now = found && words[found[1]];
    if (now && now !== last) {
      last = now;
      shop.postMessage({ invoiceId: invoiceId, status: now }, "*");
    }
  }

  function close() { shop.postMessage("close", "*"); }

  var button = document.createElement("button");
  button.type = "button";
  button.id = "close";
  button.className = "button";
  button.setAttribute("aria-label", "Close");
  button.textContent = "\u2715";
  button.addEventListener("click", close);
  var card = document.querySelector("main");
  card.insertBefore(button, card.firstChild);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  // A link back to the shop leaves the frame for the whole window.
  var back = document.getElementById("back");
  if (back) back.target = "_top";

  shop.postMessage("loaded", "*");
  if (status) {
    new MutationObserver(report).observe(status, { attributes: true, attributeFilter: ["class"] });
    report();
  }
})();
