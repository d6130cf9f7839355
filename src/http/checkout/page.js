(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("checkout-data").textContent);
  var texts = data.texts;
  var started = performance.now();
  var el = function (id) { return document.getElementById(id); };

  // Satoshis as a BCH decimal without trailing zeros (as the server writes it).
  function bch(sats) {
    var whole = Math.floor(sats / 1e8), frac = sats % 1e8;
    if (!frac) return String(whole);
    return whole + "." + String(frac + 1e8).slice(1).replace(/0+$/, "");
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  // The same words as the server's first render (checkout/page.rs, status_words).
  function words(s) {
    var values = {
      received: bch(s.received_sats),
      amount: bch(s.amount_sats),
      n: Math.min(s.confirmations, data.required),
      required: data.required
    };
    var text = {
      paid: texts.paid, confirmed: texts.confirmed, expired: texts.expired, invalid: texts.invalid
    }[s.status] || (s.received_sats > 0 ? texts.partial : texts.waiting);
    var note = "";
    if (s.exception === "paid_late") note = texts.note_late;
    else if (s.exception === "paid_over") note = texts.note_over;
    else if (s.exception === "paid_partial" && (s.status === "expired" || s.status === "invalid")) {
      note = texts.note_partial;
    }
    return { text: fill(text, values), note: fill(note, values) };
  }

  function show(s) {
    var w = words(s);
    var status = el("status");
    status.textContent = w.text;
    status.className = "status status-" + s.status;
    el("note").textContent = w.note;
    el("note").hidden = !w.note;
    el("pay").hidden = s.status !== "new";
    var back = el("back");
    if (back) back.hidden = !(s.status === "confirmed" || s.status === "expired" || s.status === "invalid");
  }

  function clock(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, sec = seconds % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h > 0 ? h + ":" + pad(m) + ":" + pad(sec) : m + ":" + pad(sec);
  }

  function tick() {
    var elapsed = performance.now() - started;
    var left = Math.max(0, data.seconds_left - Math.floor(elapsed / 1000));
    el("timer").textContent = clock(left);
    if (left > 0) setTimeout(tick, 1000 - (elapsed % 1000) + 5);
  }

  var last = data.initial.status;
  function schedule() {
    if (last === "confirmed") return;
    setTimeout(poll, last === "expired" || last === "invalid" ? 10000 : 2000);
  }

  function poll() {
    fetch(data.status_url, { cache: "no-store", credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (s) {
        el("offline").hidden = true;
        last = s.status;
        show(s);
      }, function () {
        el("offline").hidden = false;
      })
      .then(schedule);
  }

  function copied(ok) {
    var button = el("copy");
    el("copy-failed").hidden = ok;
    if (!ok) {
      var range = document.createRange();
      range.selectNodeContents(el("address"));
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      return;
    }
    button.textContent = texts.copied;
    setTimeout(function () { button.textContent = texts.copy; }, 2000);
  }

  // Without the Clipboard API (an insecure origin, an old browser): a
  // selected textarea and execCommand.
  function copyFallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "-1000px";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  el("copy").addEventListener("click", function () {
    var text = el("copy").getAttribute("data-address");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(true); }, function () {
        copied(copyFallback(text));
      });
    } else {
      copied(copyFallback(text));
    }
  });

  show(data.initial);
  tick();
  schedule();
})();
