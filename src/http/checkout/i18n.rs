//! The checkout page's two languages: which one a request gets, and every
//! text the page shows in each.
//!
//! Texts with `{received}`, `{amount}`, `{n}` and `{required}` are templates:
//! the server fills them for the first render and the page's script fills the
//! same templates when a poll brings a new status, so both say the same words.

use serde::Serialize;

/// A language the page speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// The default.
    English,
    /// For `Accept-Language: ko…`.
    Korean,
}

impl Lang {
    /// The best language for an `Accept-Language` header: the supported tag
    /// with the highest q-value (the first one on a tie), English when none is.
    pub fn negotiate(header: Option<&str>) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.unwrap_or("").split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if !(q > 0.0 && q <= 1.0) {
                continue;
            }
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "ko" => Lang::Korean,
                "en" => Lang::English,
                _ => continue,
            };
            if best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::English, |(_, lang)| lang)
    }

    /// The `lang` attribute of the page.
    pub fn code(self) -> &'static str {
        match self {
            Lang::English => "en",
            Lang::Korean => "ko",
        }
    }

    /// Every text of the page in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::English => &ENGLISH,
            Lang::Korean => &KOREAN,
        }
    }
}

/// Every visible text of the checkout page, in one language. Serialized into
/// the page for its script, which needs the status words and the notes.
#[derive(Debug, Serialize)]
pub struct Texts {
    /// The `<title>` and heading.
    pub title: &'static str,
    /// What to do, under the heading.
    pub instructions: &'static str,
    /// Label of the amount.
    pub amount: &'static str,
    /// Label of the address.
    pub address: &'static str,
    /// The QR code's accessible name.
    pub qr_label: &'static str,
    /// The `payment_uri` link.
    pub open_wallet: &'static str,
    /// The copy button.
    pub copy: &'static str,
    /// The copy button after a copy.
    pub copied: &'static str,
    /// When neither way of copying worked.
    pub copy_failed: &'static str,
    /// Label of the countdown.
    pub time_left: &'static str,
    /// Label of the status.
    pub status: &'static str,
    /// Status `new`, nothing received.
    pub waiting: &'static str,
    /// Status `new` with part of the amount (`{received}`, `{amount}`).
    pub partial: &'static str,
    /// Status `paid` (`{n}`, `{required}`).
    pub paid: &'static str,
    /// Status `confirmed`.
    pub confirmed: &'static str,
    /// Status `expired`.
    pub expired: &'static str,
    /// Status `invalid`.
    pub invalid: &'static str,
    /// Exception `paid_late`.
    pub note_late: &'static str,
    /// Exception `paid_over` (`{received}`).
    pub note_over: &'static str,
    /// Exception `paid_partial` once the invoice expired (`{received}`, `{amount}`).
    pub note_partial: &'static str,
    /// The way back to `redirect_url`.
    pub back: &'static str,
    /// When a poll fails.
    pub offline: &'static str,
    /// The 404 page's heading.
    pub not_found: &'static str,
    /// The 404 page's text.
    pub not_found_hint: &'static str,
    /// The 500 page's heading.
    pub failed: &'static str,
    /// The 500 page's text.
    pub failed_hint: &'static str,
}

/// English.
static ENGLISH: Texts = Texts {
    title: "Pay with Bitcoin Cash",
    instructions: "Scan the QR code with your wallet, or send exactly this amount to the address below.",
    amount: "Amount",
    address: "Address",
    qr_label: "QR code of the payment request",
    open_wallet: "Open in wallet",
    copy: "Copy address",
    copied: "Copied",
    copy_failed: "Could not copy: select the address and copy it yourself",
    time_left: "Time left",
    status: "Status",
    waiting: "Waiting for payment",
    partial: "Partially paid ({received} of {amount} BCH)",
    paid: "Paid, waiting for confirmation ({n} of {required})",
    confirmed: "Confirmed",
    expired: "Expired",
    invalid: "Invalid",
    note_late: "Paid after the invoice expired",
    note_over: "More than the amount was paid ({received} BCH)",
    note_partial: "Only part of the amount was paid ({received} of {amount} BCH)",
    back: "Return to the shop",
    offline: "Cannot reach the server; retrying…",
    not_found: "Invoice not found",
    not_found_hint: "Check the link you were given, or ask the shop for a new one.",
    failed: "Something went wrong",
    failed_hint: "The invoice could not be read. Try again in a moment.",
};

/// Korean.
static KOREAN: Texts = Texts {
    title: "비트코인 캐시로 결제",
    instructions: "지갑 앱으로 QR 코드를 스캔하거나, 아래 주소로 정확히 이 금액을 보내세요.",
    amount: "금액",
    address: "주소",
    qr_label: "결제 요청 QR 코드",
    open_wallet: "지갑에서 열기",
    copy: "주소 복사",
    copied: "복사됨",
    copy_failed: "복사하지 못했습니다. 주소를 선택해 직접 복사하세요",
    time_left: "남은 시간",
    status: "상태",
    waiting: "결제 대기 중",
    partial: "일부 결제됨 ({amount} BCH 중 {received} BCH)",
    paid: "결제됨, 확인 대기 중 ({required}회 중 {n}회)",
    confirmed: "결제 확인됨",
    expired: "만료됨",
    invalid: "무효",
    note_late: "인보이스가 만료된 뒤에 결제되었습니다",
    note_over: "금액보다 많이 결제되었습니다 ({received} BCH)",
    note_partial: "금액의 일부만 결제되었습니다 ({amount} BCH 중 {received} BCH)",
    back: "상점으로 돌아가기",
    offline: "서버에 연결할 수 없습니다. 다시 시도하는 중…",
    not_found: "인보이스를 찾을 수 없습니다",
    not_found_hint: "받은 링크를 확인하거나 상점에 새 링크를 요청하세요.",
    failed: "문제가 발생했습니다",
    failed_hint: "인보이스를 읽지 못했습니다. 잠시 후 다시 시도하세요.",
};
