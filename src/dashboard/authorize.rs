//! `GET /api-keys/authorize?permissions=…&applicationName=…&redirect=…`: the
//! key-authorization consent page that the BTCPay WooCommerce plugin's setup
//! wizard opens (api.md, "Merchant dashboard"), and `POST /api-keys/authorize`,
//! the consent itself.
//!
//! As BTCPay's `UIManageController.AuthorizeAPIKey` does: `permissions` is
//! repeated (greenfield-php's `ApiKey::getAuthorizeUrl` writes
//! `permissions=a&permissions=b`), a `redirect` that is not an absolute
//! http(s) URL is refused, and on consent a key with exactly the permissions
//! asked is made and sent to `redirect` by a page whose form POSTs the fields
//! `apiKey` and `permissions[]` there (BTCPay's "PostRedirect" page; it
//! submits itself, with a button for a browser without script). Store
//! permissions go out as `name:storeId`: the plugin's callback reads the
//! store id from `permissions[0]` and insists on a single store.
//! `strict`, `selectiveStores` and `applicationIdentifier` are accepted; with
//! one store and no permission editing they change nothing.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::i18n::{self, texts, Lang};
use super::keys_port::Permission;
use super::page::{csp_hash, document, esc, html, with_headers, DashError, Nav};
use super::session::Signed;
use crate::http::AppState;

/// The script of the page that sends the key: it submits the form.
const SEND_JS: &str = "document.getElementById('send').submit();";
/// The longest application name.
const MAX_NAME: usize = 100;

/// A request to authorize, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// What to grant, in the order asked, without repeats.
    pub permissions: Vec<Permission>,
    /// Who asks.
    pub application: String,
    /// Where the key goes; `None`: shown on the page instead.
    pub redirect: Option<String>,
}

/// The origin (`scheme://host[:port]`) of an absolute http(s) URL.
pub fn origin(url: &str) -> Option<String> {
    let uri: awc::http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = uri.authority()?;
    if authority.host().is_empty() || authority.as_str().contains('@') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.as_str()))
}

/// Reads the query (or form) fields of an authorization request.
pub fn parse(fields: &[(String, String)], store_id: &str) -> Result<Request, String> {
    let mut permissions = Vec::new();
    let mut application = None;
    let mut redirect = None;
    for (k, v) in fields {
        match k.as_str() {
            "permissions" | "permissions[]" => {
                for name in v.split(';').map(str::trim).filter(|n| !n.is_empty()) {
                    let (bare, scope) = match name.split_once(':') {
                        Some((bare, scope)) => (bare, Some(scope)),
                        None => (name, None),
                    };
                    let p = Permission::parse_any_case(bare)
                        .ok_or_else(|| format!("permissions: unknown permission {name:?}"))?;
                    if scope.is_some_and(|s| s != store_id) {
                        return Err(format!("permissions: {name:?} names another store"));
                    }
                    if !permissions.contains(&p) {
                        permissions.push(p);
                    }
                }
            }
            "applicationName" => {
                if v.chars().count() > MAX_NAME {
                    return Err(format!("applicationName: at most {MAX_NAME} characters"));
                }
                application = Some(v.trim().to_owned()).filter(|a| !a.is_empty());
            }
            "redirect" => {
                if origin(v).is_none() {
                    return Err("redirect: not an absolute http(s) URL".into());
                }
                redirect = Some(v.clone());
            }
            "strict" | "selectiveStores" | "applicationIdentifier" | "csrf" => {}
            other => return Err(format!("{other}: unknown parameter")),
        }
    }
    if permissions.is_empty() {
        return Err("permissions: at least one is needed".into());
    }
    Ok(Request {
        permissions,
        application: application.unwrap_or_else(|| "application".to_owned()),
        redirect,
    })
}

/// How the key's permissions are sent: store permissions scoped to the store.
pub fn granted(permissions: &[Permission], store_id: &str) -> Vec<String> {
    permissions.iter().map(|p| p.scoped(store_id)).collect()
}

fn refused(lang: Lang, why: &str) -> HttpResponse {
    let t = texts(lang);
    let body = format!(r#"<p class="notice error" id="refused">{}</p>"#, esc(why));
    html(
        StatusCode::BAD_REQUEST,
        document(lang, t.authorize_bad, Nav::None, None, "/dashboard", &body),
    )
}

/// `GET /api-keys/authorize`: after sign-in, the permissions asked and a button to consent.
pub async fn consent(
    signed: Signed,
    req: HttpRequest,
    query: web::Query<Vec<(String, String)>>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let lang = i18n::of_request(&req);
    let t = texts(lang);
    let asked = match parse(&query, &state.dashboard.keys.store_id()) {
        Ok(asked) => asked,
        Err(why) => return refused(lang, &why),
    };
    let host = asked
        .redirect
        .as_deref()
        .and_then(origin)
        .unwrap_or_else(|| t.nav_keys.to_owned());
    let text = t
        .authorize_text
        .replace("{app}", &format!("<strong>{}</strong>", esc(&asked.application)))
        .replace("{host}", &format!("<strong class=\"mono\">{}</strong>", esc(&host)));
    let mut list = String::new();
    let mut hidden = String::new();
    for p in &asked.permissions {
        list.push_str(&format!(r#"<li class="mono">{}</li>"#, esc(p.as_str())));
        hidden.push_str(&format!(
            r#"<input type="hidden" name="permissions" value="{}">"#,
            esc(p.as_str())
        ));
    }
    hidden.push_str(&format!(
        r#"<input type="hidden" name="applicationName" value="{}">"#,
        esc(&asked.application)
    ));
    if let Some(r) = &asked.redirect {
        hidden.push_str(&format!(r#"<input type="hidden" name="redirect" value="{}">"#, esc(r)));
    }
    let body = format!(
        r#"<section class="card stack" id="consent"><p>{text}</p><ul id="asked">{list}</ul>
<form method="post" action="/api-keys/authorize" class="stack"><input type="hidden" name="csrf" value="{csrf}">{hidden}
<p><button type="submit" id="authorize">{authorize}</button> <a href="/dashboard/keys">{cancel}</a></p></form></section>"#,
        csrf = esc(&signed.session.csrf),
        authorize = esc(t.authorize),
        cancel = esc(t.cancel),
    );
    let here = req.uri().path_and_query().map_or("/api-keys/authorize", |p| p.as_str());
    html(
        StatusCode::OK,
        document(lang, t.authorize_title, Nav::None, Some(&signed.session), here, &body),
    )
}

/// `POST /api-keys/authorize` (`csrf` and the request's fields): makes the
/// key and sends it to `redirect` (or shows it, without one).
pub async fn grant(
    signed: Signed,
    req: HttpRequest,
    form: web::Form<Vec<(String, String)>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    signed.check_csrf(form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()))?;
    let lang = i18n::of_request(&req);
    let t = texts(lang);
    let keys = &state.dashboard.keys;
    let store_id = keys.store_id();
    let asked = match parse(&form, &store_id) {
        Ok(asked) => asked,
        Err(why) => return Ok(refused(lang, &why)),
    };
    let made = keys.create(&asked.application, &asked.permissions).await.map_err(|e| {
        log::error!("authorizing {}: {e}", asked.application);
        DashError::Internal
    })?;
    log::info!("API key {} made for {} by consent", made.info.id, asked.application);
    let Some(redirect) = asked.redirect else {
        let body = format!(
            r#"<div class="notice ok"><p>{}</p><code class="secret mono" id="new-key-value">{}</code></div><p><a href="/dashboard/keys">{}</a></p>"#,
            esc(t.key_once),
            esc(made.key.expose()),
            esc(t.nav_keys)
        );
        return Ok(html(
            StatusCode::OK,
            document(
                lang,
                t.authorize_title,
                Nav::None,
                Some(&signed.session),
                "/dashboard/keys",
                &body,
            ),
        ));
    };
    let target = origin(&redirect).ok_or(DashError::Internal)?;
    let mut fields = format!(
        r#"<input type="hidden" name="apiKey" value="{}">"#,
        esc(made.key.expose())
    );
    for p in granted(&made.info.permissions, &store_id) {
        fields.push_str(&format!(
            r#"<input type="hidden" name="permissions[]" value="{}">"#,
            esc(&p)
        ));
    }
    let body = format!(
        r#"<section class="card stack"><p>{sending}</p><form method="post" action="{action}" id="send">{fields}<button type="submit">{cont}</button></form></section><script>{SEND_JS}</script>"#,
        sending = esc(t.sending_key),
        action = esc(&redirect),
        cont = esc(t.continue_),
    );
    let csp = format!(
        "default-src 'none'; style-src {}; script-src {}; form-action {target}; base-uri 'none'; frame-ancestors 'none'",
        csp_hash(include_str!("style.css")),
        csp_hash(SEND_JS),
    );
    Ok(with_headers(HttpResponse::build(StatusCode::OK), &csp).body(document(
        lang,
        t.authorize_title,
        Nav::None,
        Some(&signed.session),
        "/dashboard/keys",
        &body,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_woocommerce_wizards_request_reads() {
        // What greenfield-php's ApiKey::getAuthorizeUrl builds for the plugin.
        let asked = parse(
            &q(&[
                ("permissions", "btcpay.store.canviewinvoices"),
                ("permissions", "btcpay.store.cancreateinvoice"),
                ("permissions", "btcpay.store.webhooks.canmodifywebhooks"),
                ("permissions", "btcpay.store.canviewstoresettings"),
                ("permissions", "btcpay.store.canmodifyinvoices"),
                ("applicationName", "WooCommerce"),
                ("strict", "true"),
                ("selectiveStores", "true"),
                ("redirect", "https://shop.example/?btcpay-settings-callback"),
            ]),
            "S1",
        )
        .unwrap();
        assert_eq!(asked.permissions.len(), 5);
        assert_eq!(asked.application, "WooCommerce");
        assert_eq!(
            origin(asked.redirect.as_deref().unwrap()).as_deref(),
            Some("https://shop.example")
        );
        let sent = granted(&asked.permissions, "S1");
        assert_eq!(sent[0], "btcpay.store.canviewinvoices:S1");
        assert!(sent.iter().all(|p| p.ends_with(":S1")));
        assert_eq!(granted(&[Permission::Unrestricted], "S1"), ["unrestricted"]);
    }

    #[test]
    fn bad_requests_are_refused_naming_the_parameter() {
        for (pairs, field) in [
            (vec![("permissions", "btcpay.store.cansteal")], "permissions"),
            (vec![], "permissions"),
            (
                vec![("permissions", "unrestricted"), ("redirect", "javascript:alert(1)")],
                "redirect",
            ),
            (
                vec![("permissions", "unrestricted"), ("redirect", "/relative")],
                "redirect",
            ),
            (
                vec![
                    ("permissions", "unrestricted"),
                    ("redirect", "https://user@evil.example/"),
                ],
                "redirect",
            ),
            (
                vec![("permissions", "btcpay.store.canviewinvoices:OTHER")],
                "permissions",
            ),
            (vec![("permissions", "unrestricted"), ("nope", "1")], "nope"),
        ] {
            let why = parse(&q(&pairs), "S1").unwrap_err();
            assert!(why.starts_with(field), "{pairs:?}: {why}");
        }
        assert!(parse(&q(&[("permissions", "btcpay.store.canviewinvoices:S1")]), "S1").is_ok());
    }
}
