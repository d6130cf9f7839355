// Verify a bchpay webhook signature (Node.js, no dependencies).
//
// In a receiver, pass the raw request body (a Buffer, before any JSON parsing)
// and the Bchpay-Signature header, e.g. with Express:
//   app.post("/hooks/bchpay", express.raw({ type: "application/json" }), (req, res) =>
//     res.sendStatus(verify(SECRET, req.get("Bchpay-Signature") || "", req.body) ? 200 : 400));
//
// From a shell: node verify.js SECRET SIGNATURE_HEADER BODY_FILE  (exit 0: valid)
"use strict";
const crypto = require("crypto");
const fs = require("fs");

const TOLERANCE_SECS = 300; // refuse older (or future) signatures: replays

function verify(secret, header, body, now = Date.now() / 1000) {
  const parts = {};
  for (const part of header.split(",")) {
    const i = part.indexOf("=");
    if (i > 0) parts[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  const { t = "", v1 = "" } = parts;
  if (!/^[0-9]+$/.test(t) || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(now - Number(t)) > TOLERANCE_SECS) return false;
  const expected = crypto.createHmac("sha256", secret).update(`${t}.`).update(body).digest();
  return crypto.timingSafeEqual(expected, Buffer.from(v1, "hex"));
}

module.exports = { verify };

if (require.main === module) {
  const [secret, header, bodyFile] = process.argv.slice(2);
  const ok = verify(secret, header, fs.readFileSync(bodyFile));
  console.log(ok ? "valid" : "invalid");
  process.exit(ok ? 0 : 1);
}
