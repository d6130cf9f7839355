/*
 * bchpay's modal checkout script, served at /modal/btcpay.js for shops that
 * use BTCPay's modal checkout (the WooCommerce plugin's "modal" option). It
 * offers the interface of BTCPay's own /modal/btcpay.js (read as an
 * interface, not copied): window.btcpay.showInvoice(id), hideFrame(),
 * setApiUrlPrefix(url), onModalReceiveMessage(fn), onModalWillEnter(fn),
 * onModalWillLeave(fn), showFrame(), appendInvoiceFrame(id),
 * appendAndShowInvoiceFrame(id). The invoice opens in a full-window iframe of
 * /invoice?id=ID&view=modal, which posts "loaded", "close" and
 * {invoiceId, status} to this window.
 */
(function () {
  "use strict";
  if (window.btcpay && window.btcpay.bchpay) return;

  var origin = "";
  try {
    origin = new URL(document.currentScript.src).origin;
  } catch (e) {
    origin = window.location.origin;
  }
  var frame = null;
  var showing = false;
  var receive = null;
  var willEnter = null;
  var willLeave = null;

  function setApiUrlPrefix(url) {
    origin = String(url).replace(/\/+$/, "");
  }

  function removeFrame() {
    if (frame && frame.parentNode) frame.parentNode.removeChild(frame);
    frame = null;
    showing = false;
  }

  function appendInvoiceFrame(invoiceId, params) {
    removeFrame();
    frame = document.createElement("iframe");
    frame.name = "btcpay";
    frame.title = "Bitcoin Cash checkout";
    frame.setAttribute("allowtransparency", "true");
    var s = frame.style;
    s.position = "fixed";
    s.top = "0";
    s.left = "0";
    s.width = "100%";
    s.height = "100%";
    s.border = "0";
    s.margin = "0";
    s.zIndex = "2000";
    s.display = "none";
    var src = origin + "/invoice?id=" + encodeURIComponent(invoiceId) + "&view=modal";
    if (params && params.animateEntrance === false) src += "&animateEntrance=false";
    frame.src = src;
    document.body.appendChild(frame);
    return frame;
  }

  function showFrame() {
    if (!frame || showing) return;
    if (willEnter) willEnter();
    frame.style.display = "block";
    showing = true;
  }

  function hideFrame() {
    if (showing && willLeave) willLeave();
    removeFrame();
  }

  window.addEventListener("message", function (event) {
    // Only the checkout frame of this server speaks here.
    if (!frame || event.source !== frame.contentWindow) return;
    if (!event.origin || origin.indexOf(event.origin) !== 0) return;
    if (event.data === "loaded") showFrame();
    else if (event.data === "close") hideFrame();
    if (receive) receive(event);
  });

  window.btcpay = {
    bchpay: true,
    showInvoice: appendInvoiceFrame,
    appendInvoiceFrame: appendInvoiceFrame,
    appendAndShowInvoiceFrame: function (invoiceId, params) {
      appendInvoiceFrame(invoiceId, params);
      showFrame();
    },
    showFrame: showFrame,
    hideFrame: hideFrame,
    setApiUrlPrefix: setApiUrlPrefix,
    onModalReceiveMessage: function (fn) { receive = fn; },
    onModalWillEnter: function (fn) { willEnter = fn; },
    onModalWillLeave: function (fn) { willLeave = fn; }
  };
})();
