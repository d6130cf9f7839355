//! The merchant dashboard over HTTP (issue 15; api.md, "Merchant
//! dashboard"): every page and form, signed out, signed in, with a wrong key,
//! a refused CSRF token, an expired session; the CSV export; the consent page.
//! The browser's view is `dashboard_browser`.
//!
//! - [`sessions`]: signed out, signing in, wrong keys and their slowing
//!   down, expiry, CSRF refusals, signing out, the languages.
//! - [`pages`]: the overview, the invoices (filter, search, pages), one
//!   invoice and its redelivery, the keys.
//! - [`export_consent`]: the CSV export and the key-authorization consent page.

mod export_consent;
mod pages;
mod sessions;

use std::time::Duration;

use crate::helpers::*;

/// A page as the browser would get it, redirects not followed.
#[derive(Debug)]
pub struct Page {
    /// The status.
    pub status: u16,
    /// The response headers.
    pub headers: awc::http::header::HeaderMap,
    /// The body as text.
    pub text: String,
}

impl Page {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    /// Every `Set-Cookie`.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// The session cookie's value set by this answer.
    pub fn session(&self) -> Option<String> {
        self.set_cookies().iter().find_map(|c| {
            c.strip_prefix("bchpay_session=")
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
    }

    /// The value of the first `name="csrf"` field.
    pub fn csrf(&self) -> String {
        let at = self.text.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
        self.text[at..].split('"').next().unwrap().to_owned()
    }

    #[track_caller]
    pub fn assert_redirect(&self, to: &str) {
        assert_eq!(
            (self.status, self.header("location").as_str()),
            (303, to),
            "{}",
            self.text
        );
    }
}

/// The engine and a client that keeps no cookies and follows no redirects.
pub struct Dash {
    pub app: TestApp,
    pub client: awc::Client,
}

impl Dash {
    pub async fn spawn_with(configure: impl FnOnce(&mut bchpay::config::Settings)) -> Dash {
        Dash {
            app: TestApp::spawn_with(configure).await,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(10))
                .disable_redirects()
                .finish(),
        }
    }

    pub async fn spawn() -> Dash {
        Dash::spawn_with(|_| {}).await
    }

    pub async fn read(
        mut response: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
        >,
    ) -> Page {
        let body = response.body().limit(16 * 1024 * 1024).await.expect("body");
        Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub fn request(&self, method: awc::http::Method, path: &str, session: Option<&str>) -> awc::ClientRequest {
        let mut request = self.client.request(method, format!("{}{path}", self.app.base));
        if let Some(s) = session {
            request = request.insert_header(("Cookie", format!("bchpay_session={s}")));
        }
        request
    }

    pub async fn get(&self, path: &str, session: Option<&str>) -> Page {
        let sent = self.request(awc::http::Method::GET, path, session).send().await;
        Dash::read(sent.unwrap_or_else(|e| panic!("GET {path}: {e}"))).await
    }

    pub async fn get_lang(&self, path: &str, session: Option<&str>, accept: &str) -> Page {
        let sent = self
            .request(awc::http::Method::GET, path, session)
            .insert_header(("Accept-Language", accept))
            .send()
            .await;
        Dash::read(sent.unwrap_or_else(|e| panic!("GET {path}: {e}"))).await
    }

    pub async fn post(&self, path: &str, session: Option<&str>, fields: &[(&str, &str)]) -> Page {
        let sent = self
            .request(awc::http::Method::POST, path, session)
            .send_form(&fields)
            .await;
        Dash::read(sent.unwrap_or_else(|e| panic!("POST {path}: {e}"))).await
    }

    /// Signs in with the engine's key; the session id.
    pub async fn sign_in(&self) -> String {
        let page = self.post("/dashboard/login", None, &[("api_key", API_KEY)]).await;
        page.assert_redirect("/dashboard");
        page.session().expect("a session cookie")
    }

    /// The session's CSRF token, read from a page.
    pub async fn csrf(&self, session: &str) -> String {
        self.get("/dashboard", Some(session)).await.csrf()
    }
}
