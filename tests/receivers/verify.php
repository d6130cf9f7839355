<?php
// Verify a bchpay webhook signature (PHP 7.4+, no extensions beyond hash).
//
// In a receiver, pass the raw request body (before any JSON decoding) and the
// Bchpay-Signature header:
//   $ok = bchpay_verify($secret, $_SERVER['HTTP_BCHPAY_SIGNATURE'] ?? '', file_get_contents('php://input'));
//
// From a shell: php verify.php SECRET SIGNATURE_HEADER BODY_FILE  (exit 0: valid)

const BCHPAY_TOLERANCE_SECS = 300; // refuse older (or future) signatures: replays

function bchpay_verify(string $secret, string $header, string $body, ?int $now = null): bool
{
    $parts = [];
    foreach (explode(',', $header) as $part) {
        $kv = explode('=', trim($part), 2);
        if (count($kv) === 2) {
            $parts[$kv[0]] = $kv[1];
        }
    }
    $t = $parts['t'] ?? '';
    $v1 = $parts['v1'] ?? '';
    if (!ctype_digit($t)) {
        return false;
    }
    if (abs(($now ?? time()) - (int) $t) > BCHPAY_TOLERANCE_SECS) {
        return false;
    }
    return hash_equals(hash_hmac('sha256', $t . '.' . $body, $secret), $v1);
}

if (PHP_SAPI === 'cli' && isset($argv) && realpath($argv[0]) === __FILE__) {
    [, $secret, $header, $bodyFile] = $argv;
    $ok = bchpay_verify($secret, $header, file_get_contents($bodyFile));
    echo $ok ? "valid\n" : "invalid\n";
    exit($ok ? 0 : 1);
}
