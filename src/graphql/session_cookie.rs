//! The browser's session: its refresh token in an `HttpOnly`, `SameSite=Strict` cookie
//! scoped to `/graphql`, never readable by the page's scripts. Only a request that says
//! `X-Organizer-Session: cookie` takes part — a custom header no other site can make a
//! browser send — so the cookie is neither set nor read for API clients, and a forged
//! cross-site request cannot use it. Such requests get the token only in the cookie (the
//! `refreshToken` field of the answer is empty).

use async_graphql::Context;
use axum::http::{HeaderMap, header};

/// The header a browser sends to keep its session in the cookie.
pub const OPT_IN_HEADER: &str = "x-organizer-session";
const COOKIE: &str = "organizer_refresh";
/// Where the cookie goes: the one endpoint whose mutations read it.
const COOKIE_PATH: &str = "/graphql";

/// What a request says about the cookie session.
#[derive(Clone, Default)]
pub struct CookieSession {
    /// The request asked for the cookie session (the custom header).
    pub opted_in: bool,
    /// The cookie's refresh token, read only for a request that opted in.
    pub token: Option<String>,
    /// Served over HTTPS (as a trusted proxy says): the cookie is `Secure`.
    pub secure: bool,
}

impl CookieSession {
    pub fn from_headers(headers: &HeaderMap, https: bool) -> Self {
        let opted_in = headers
            .get(OPT_IN_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("cookie"));
        let token = opted_in
            .then(|| {
                headers
                    .get_all(header::COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(';'))
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| *name == COOKIE)
                    .map(|(_, value)| value.trim().to_string())
            })
            .flatten()
            .filter(|t| !t.is_empty());
        Self {
            opted_in,
            token,
            secure: https,
        }
    }

    fn cookie(&self, value: &str, max_age: i64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{COOKIE}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
        )
    }
}

/// The request's cookie session (none for a WebSocket or a test without one).
pub fn of(ctx: &Context<'_>) -> CookieSession {
    ctx.data_opt::<CookieSession>().cloned().unwrap_or_default()
}

/// Hands a new refresh token to the browser in the cookie, when the request opted in;
/// what the answer's `refreshToken` field should then say.
pub fn keep(ctx: &Context<'_>, refresh_token: String) -> String {
    let session = of(ctx);
    if !session.opted_in {
        return refresh_token;
    }
    let max_age = crate::auth::accounts::REFRESH_TOKEN_TTL.num_seconds();
    ctx.append_http_header(header::SET_COOKIE, session.cookie(&refresh_token, max_age));
    String::new()
}

/// Clears the cookie (on logout), when the request opted in.
pub fn clear(ctx: &Context<'_>) {
    let session = of(ctx);
    if session.opted_in {
        ctx.append_http_header(header::SET_COOKIE, session.cookie("", 0));
    }
}
