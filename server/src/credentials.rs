//! How callers present credentials in HTTP headers. One reader for every
//! surface (admin API, MCP endpoint, token endpoint), so they cannot
//! disagree about what counts as a bearer token.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Splits `Authorization: <scheme> <credentials>`; the scheme is matched
/// case-insensitively (RFC 9110 §11.1).
fn authorization<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (given, rest) = value.split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| rest.trim())
        .filter(|c| !c.is_empty())
}

/// The bearer token of a request (RFC 6750 §2.1), if it sent one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    authorization(headers, "Bearer")
}

/// The password half of HTTP Basic credentials (`client_id:client_secret`
/// at the token endpoint), if the request sent them.
pub fn basic_secret(headers: &HeaderMap) -> Option<String> {
    let raw = STANDARD.decode(authorization(headers, "Basic")?).ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.split_once(':').map(|(_, secret)| secret.to_owned())
}

/// Whether the request's bearer token is `expected`. Compared as SHA-256
/// digests: equal length, so the comparison time says nothing about how
/// much of a guess was right.
pub fn bearer_is(headers: &HeaderMap, expected: &secrecy::SecretString) -> bool {
    use secrecy::ExposeSecret;
    use sha2::{Digest, Sha256};
    let given = bearer(headers).unwrap_or_default();
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.expose_secret().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_trimmed() {
        assert_eq!(bearer(&with("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&with("bearer abc ")), Some("abc"));
        assert_eq!(bearer(&with("BEARER abc")), Some("abc"));
        assert_eq!(bearer(&with("Bearer ")), None);
        assert_eq!(bearer(&with("Basic abc")), None);
        assert_eq!(bearer(&with("Bearerabc")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[test]
    fn basic_credentials_yield_the_secret() {
        let v = format!("Basic {}", STANDARD.encode("client:ghk_secret"));
        assert_eq!(basic_secret(&with(&v)).as_deref(), Some("ghk_secret"));
        assert_eq!(basic_secret(&with("Basic !!!")), None);
        assert_eq!(basic_secret(&with("Bearer x")), None);
    }
}
