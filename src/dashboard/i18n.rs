//! The dashboard's two languages: which one a request gets (a switch in a
//! cookie, else `Accept-Language`), and every text the pages show in each.

use actix_web::HttpRequest;

pub use crate::http::checkout::i18n::Lang;

/// The cookie that keeps the language chosen with the switch.
pub const LANG_COOKIE: &str = "bchpay_lang";

/// The language of a request: the switch's cookie wins over `Accept-Language`.
pub fn of_request(req: &HttpRequest) -> Lang {
    match req.cookie(LANG_COOKIE).as_ref().map(|c| c.value()) {
        Some("ko") => Lang::Korean,
        Some("en") => Lang::English,
        _ => Lang::negotiate(req.headers().get("Accept-Language").and_then(|v| v.to_str().ok())),
    }
}

/// Every text of the dashboard in `lang`.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::English => &ENGLISH,
        Lang::Korean => &KOREAN,
    }
}

/// Declares [`Texts`] and its two instances side by side, so that a text
/// cannot exist in one language only.
macro_rules! texts {
    ($($(#[$doc:meta])* $name:ident: $en:literal, $ko:literal;)*) => {
        /// Every visible text of the dashboard, in one language.
        #[derive(Debug)]
        pub struct Texts {
            $($(#[$doc])* pub $name: &'static str,)*
        }
        /// English.
        static ENGLISH: Texts = Texts { $($name: $en,)* };
        /// Korean.
        static KOREAN: Texts = Texts { $($name: $ko,)* };
    };
}

texts! {
    /// The product's name in the header.
    brand: "bchpay dashboard", "bchpay 대시보드";
    /// The other language, in itself (the switch).
    other_language: "한국어", "English";
    /// Navigation: overview.
    nav_overview: "Overview", "개요";
    /// Navigation: invoices.
    nav_invoices: "Invoices", "인보이스";
    /// Navigation: webhooks.
    nav_webhooks: "Webhooks", "웹훅";
    /// Navigation: API keys.
    nav_keys: "API keys", "API 키";
    /// The sign-out button.
    sign_out: "Sign out", "로그아웃";
    /// Sign-in page heading.
    sign_in_title: "Sign in", "로그인";
    /// What to enter.
    sign_in_hint: "Enter an API key with the unrestricted permission (api.keys in config.toml).",
        "unrestricted 권한이 있는 API 키를 입력하세요 (config.toml의 api.keys).";
    /// Label of the key field.
    api_key: "API key", "API 키";
    /// The sign-in button.
    sign_in: "Sign in", "로그인";
    /// A wrong key.
    wrong_key: "That key is not valid, or it lacks the unrestricted permission.",
        "키가 올바르지 않거나 unrestricted 권한이 없습니다.";
    /// Too many failures from this address.
    throttled: "Too many failed sign-ins from this address. Try again in a few seconds.",
        "이 주소에서 로그인 실패가 너무 많습니다. 몇 초 뒤에 다시 시도하세요.";
    /// The session ended by idleness.
    expired: "Your session expired. Sign in again.", "세션이 만료되었습니다. 다시 로그인하세요.";
    /// After sign-out.
    signed_out: "You are signed out.", "로그아웃되었습니다.";
    /// A form without the session's token.
    csrf_refused: "This form is out of date (its security token does not match your session). Go back, reload the page and try again.",
        "이 양식은 만료되었습니다 (보안 토큰이 세션과 맞지 않습니다). 돌아가서 새로고침한 뒤 다시 시도하세요.";
    /// Heading of an error page.
    error_title: "Something went wrong", "문제가 발생했습니다";
    /// A store or wallet failure.
    internal_error: "The engine could not answer; see its log.", "엔진이 응답하지 못했습니다. 로그를 확인하세요.";
    /// Not found.
    not_found: "Not found", "찾을 수 없습니다";
    /// Section: wallet.
    wallet: "Wallet", "지갑";
    /// Link state.
    link: "Link", "연결";
    /// Network.
    network: "Network", "네트워크";
    /// Confirmed balance.
    confirmed_balance: "Confirmed balance", "확인된 잔액";
    /// Unconfirmed balance.
    unconfirmed_balance: "Unconfirmed", "미확인";
    /// Balance unknown.
    balance_unknown: "Balance unavailable while the wallet link is not up.", "지갑 연결이 끊겨 잔액을 알 수 없습니다.";
    /// Address pool.
    pool: "Address pool", "주소 풀";
    /// Addresses ready.
    pool_available: "addresses ready", "개 주소 준비됨";
    /// Section: rates.
    rates: "Exchange rates", "환율";
    /// No fiat currency configured.
    /// A currency with no rate now.
    rate_unavailable: "no rate", "환율 없음";
    rates_none: "No fiat currencies configured: invoices are priced in BCH.", "설정된 법정화폐가 없습니다. 인보이스는 BCH로 표시됩니다.";
    /// Section: invoices by status.
    by_status: "Invoices by status", "상태별 인보이스";
    /// Section: deliveries failing.
    failing: "Webhook deliveries failing", "실패한 웹훅 전송";
    /// Nothing failing.
    none_failing: "No delivery is failing.", "실패한 전송이 없습니다.";
    /// Nothing retrying.
    none_retrying: "No delivery is waiting for a retry.", "재시도를 기다리는 전송이 없습니다.";
    /// Deliveries waiting.
    pending_deliveries: "deliveries waiting in the outbox", "건이 전송 대기 중";
    /// Status filter label.
    status: "Status", "상태";
    /// Any status.
    any_status: "Any", "전체";
    /// The search field.
    search: "Search", "검색";
    /// The search field's hint.
    search_hint: "Invoice id, order id, address or txid", "인보이스 ID, 주문 ID, 주소 또는 txid";
    /// The filter button.
    apply: "Show", "보기";
    /// Column: created.
    created: "Created", "생성";
    /// Column: invoice.
    invoice: "Invoice", "인보이스";
    /// Column: order.
    order: "Order", "주문";
    /// Column: amount.
    amount: "Amount", "금액";
    /// Column: price.
    price: "Price", "가격";
    /// Column: received.
    received: "Received", "받은 금액";
    /// No invoice matches.
    no_invoices: "No invoice matches.", "일치하는 인보이스가 없습니다.";
    /// Next page.
    next_page: "Older invoices →", "이전 인보이스 →";
    /// First page.
    first_page: "← Newest", "← 최신";
    /// Section: export.
    export: "Export for bookkeeping (CSV)", "장부용 내보내기 (CSV)";
    /// From date.
    from: "From", "시작일";
    /// To date.
    to: "To", "종료일";
    /// Download button.
    download: "Download CSV", "CSV 다운로드";
    /// Section: payments.
    payments: "Payments", "결제";
    /// Column: txid.
    txid: "Transaction", "트랜잭션";
    /// Column: height.
    height: "Block", "블록";
    /// Column: confirmations.
    confirmations: "Confirmations", "확인 수";
    /// In the mempool.
    mempool: "mempool", "멤풀";
    /// No payment yet.
    no_payments: "No payment seen yet.", "아직 결제가 없습니다.";
    /// Section: events.
    events: "Webhook events", "웹훅 이벤트";
    /// No events.
    no_events: "No event yet.", "아직 이벤트가 없습니다.";
    /// Delivery state.
    delivery: "Delivery", "전송";
    /// Column: attempts.
    attempts: "Attempts", "시도";
    /// No attempt yet.
    no_attempts: "No attempt yet.", "아직 시도하지 않았습니다.";
    /// Next attempt.
    next_attempt: "Next attempt", "다음 시도";
    /// Redeliver button.
    redeliver: "Send again", "다시 보내기";
    /// After a redelivery.
    redelivered: "Queued to be sent again now.", "지금 다시 보내도록 대기열에 넣었습니다.";
    /// A redelivery with nowhere to go.
    no_endpoint: "This event has nowhere to go: set webhooks.url and webhooks.secret, or the invoice's webhook_url.",
        "이 이벤트를 보낼 곳이 없습니다. webhooks.url과 webhooks.secret 또는 인보이스의 webhook_url을 설정하세요.";
    /// Expires.
    expires: "Expires", "만료";
    /// Description.
    description: "Description", "설명";
    /// Address.
    address: "Address", "주소";
    /// Checkout page link.
    checkout_page: "Checkout page", "결제 페이지";
    /// Section: default webhook.
    default_webhook: "Configured default (webhooks.url)", "기본 설정 (webhooks.url)";
    /// Not set.
    not_set: "not set", "설정 안 됨";
    /// Secret set.
    secret_set: "signing secret set", "서명 비밀키 설정됨";
    /// Secret missing.
    secret_missing: "no signing secret: nothing is sent", "서명 비밀키 없음: 전송하지 않음";
    /// Section: registered webhooks.
    registered_webhooks: "Registered webhooks", "등록된 웹훅";
    /// Until Greenfield lands.
    registered_none: "None registered. Webhooks registered through the Greenfield API will be listed here.",
        "등록된 웹훅이 없습니다. Greenfield API로 등록한 웹훅이 여기에 표시됩니다.";
    /// Section: deliveries retrying.
    retrying: "Deliveries retrying", "재시도 중인 전송";
    /// Column: label.
    label: "Label", "이름";
    /// Column: permissions.
    permissions: "Permissions", "권한";
    /// Revoke button.
    revoke: "Revoke", "폐기";
    /// A key from the configuration.
    from_config: "from config.toml (change it there)", "config.toml에서 설정 (그곳에서 변경)";
    /// Section: new key.
    new_key: "Create a key", "키 만들기";
    /// Create button.
    create: "Create key", "키 만들기";
    /// The key shown once.
    key_once: "Copy this key now: it is shown only once.", "지금 이 키를 복사하세요. 한 번만 표시됩니다.";
    /// A key was revoked.
    key_revoked: "The key was revoked.", "키를 폐기했습니다.";
    /// Label missing.
    label_needed: "Give the key a label (at most 100 characters) and at least one permission.",
        "키 이름(100자 이하)과 하나 이상의 권한을 정하세요.";
    /// Consent page heading.
    authorize_title: "Authorize an application", "애플리케이션 승인";
    /// Consent text: `{app}` and `{host}`.
    authorize_text: "{app} asks for an API key with these permissions. The key will be sent to {host}.",
        "{app}에서 다음 권한의 API 키를 요청합니다. 키는 {host}(으)로 전송됩니다.";
    /// Authorize button.
    authorize: "Authorize", "승인";
    /// Cancel link.
    cancel: "Cancel", "취소";
    /// Sending the key.
    sending_key: "Sending the key to the application…", "애플리케이션으로 키를 보내는 중…";
    /// Continue button (no script).
    continue_: "Continue", "계속";
    /// A bad authorization request.
    authorize_bad: "This authorization request cannot be served", "이 승인 요청은 처리할 수 없습니다";
    /// Unit.
    bch: "BCH", "BCH";
    /// Times are UTC.
    utc: "UTC", "UTC";
}

/// The words of a status.
pub fn status_name(lang: Lang, status: crate::invoice::InvoiceStatus) -> &'static str {
    use crate::invoice::InvoiceStatus::*;
    match (lang, status) {
        (Lang::English, New) => "New",
        (Lang::English, Paid) => "Paid",
        (Lang::English, Confirmed) => "Confirmed",
        (Lang::English, Expired) => "Expired",
        (Lang::English, Invalid) => "Invalid",
        (Lang::Korean, New) => "신규",
        (Lang::Korean, Paid) => "결제됨",
        (Lang::Korean, Confirmed) => "확인됨",
        (Lang::Korean, Expired) => "만료됨",
        (Lang::Korean, Invalid) => "무효",
    }
}

/// The words of a delivery state.
pub fn delivery_name(lang: Lang, state: crate::event::DeliveryState) -> &'static str {
    use crate::event::DeliveryState::*;
    match (lang, state) {
        (Lang::English, Pending) => "pending",
        (Lang::English, Delivered) => "delivered",
        (Lang::English, Failed) => "failed",
        (Lang::English, NoEndpoint) => "no endpoint",
        (Lang::Korean, Pending) => "대기 중",
        (Lang::Korean, Delivered) => "전송됨",
        (Lang::Korean, Failed) => "실패",
        (Lang::Korean, NoEndpoint) => "보낼 곳 없음",
    }
}
