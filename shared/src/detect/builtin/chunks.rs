//! Pass 2, chunks: whitespace/quote/bracket-delimited tokens, classified by
//! the byte classes they contain, judged as e-mail, URLs, database URLs,
//! IPv6, alphanumeric IDs (IBAN, NINO, NIF, fiscal code, PAN, NRIC, DEA,
//! passport), crypto wallets, vendor tokens, JWTs, PEM blocks and
//! `name=value` secrets (the value of a JSON member whose key names a secret
//! or a person is judged in `fields.rs`).
//!
//! The domain, punctuation and secret-name helpers below serve only this
//! pass; the byte-class tables it reads are in `tables.rs`.

use super::Scanner;
use super::tables::{CLASS, CODE_SUFFIXES, COMMON_TLDS, F_ALPHA, Flags, is_delim};
use crate::detect::context;
use crate::detect::entity::{Entity, Region};
use crate::detect::gazetteer as gz;
use crate::detect::validators as v;

impl<'a> Scanner<'a> {
    pub(super) fn chunks(&mut self) {
        let b = self.b;
        let n = b.len();
        let mut i = 0;
        let mut pending_secret = 0u8; // chunks left in which a secret value may follow
        let mut pending_password = false;
        while i < n {
            while i < n && is_delim(b[i]) {
                i += 1;
            }
            if i >= n {
                break;
            }
            let start = i;
            let mut bits = 0u16;
            while i < n && !is_delim(b[i]) {
                bits |= CLASS[usize::from(b[i])];
                i += 1;
            }
            let end = i;
            // Plain lower-case words (most of prose) can be nothing here, unless
            // they are the value after `password:`.
            if bits & !F_ALPHA == 0 && pending_secret == 0 && !next_non_space_is_sep(b, end) {
                continue;
            }
            let f = Flags::from_bits(bits);
            if b[start] == b'-'
                && b[start..].starts_with(b"-----BEGIN")
                && let Some(e) = self.pem(start)
            {
                i = e;
                pending_secret = 0;
                continue;
            }
            if let Some(e) = self.grouped_id(start, end) {
                i = e;
                pending_secret = 0;
                continue;
            }
            let consumed = self.chunk(start, end, &f);
            // `password: value`, `"api_key": "value"`, `TOKEN = value` across chunks.
            if pending_secret > 0 {
                pending_secret -= 1;
                let text = &self.s[start..end];
                if text == ":" || text == "=" || text == ":=" {
                    continue;
                }
                if !consumed {
                    self.secret_value(start, end, pending_password);
                }
                pending_secret = 0;
                continue;
            }
            if f.alpha && !consumed && (f.colon || f.eq || next_non_space_is_sep(b, end)) {
                let text = &self.s[start..end];
                let (name, rest) = match text.find(['=', ':']) {
                    Some(p) => (&text[..p], &text[p + 1..]),
                    None => (text, ""),
                };
                if let Some(pw) = secret_name(name) {
                    let rest = rest.trim_start_matches(['=', ':']);
                    if rest.is_empty() {
                        // Value is the next chunk (after an optional lone `:` / `=`).
                        let next_sep = text.ends_with([':', '=']) || next_non_space_is_sep(b, end);
                        if next_sep || text.len() == name.len() {
                            pending_secret = 2;
                            pending_password = pw;
                        }
                    } else {
                        let vs = end - rest.len();
                        self.secret_value(vs, end, pw);
                    }
                }
            }
        }
    }

    /// IDs printed in space-separated groups: IBAN `DE89 3704 0044 0532 0130 00`,
    /// NINO `AB 12 34 56 C`. Returns the end of a recognised ID.
    fn grouped_id(&mut self, start: usize, end: usize) -> Option<usize> {
        let b = self.b;
        let t = &b[start..end];
        let up = |c: &u8| c.is_ascii_uppercase();
        let dig = |c: &u8| c.is_ascii_digit();
        if t.len() == 4
            && t[..2].iter().all(up)
            && t[2..].iter().all(dig)
            && b.get(end) == Some(&b' ')
        {
            // Collect following 1–4 character groups, at most 34 significant characters.
            let mut compact = [0u8; 34];
            compact[..4].copy_from_slice(t);
            let mut n = 4;
            let mut ends: Vec<(usize, usize)> = Vec::new(); // (compact len, raw end)
            let mut p = end;
            while n < 34 && b.get(p) == Some(&b' ') {
                let gs = p + 1;
                let mut ge = gs;
                while ge < b.len()
                    && ge - gs < 4
                    && (b[ge].is_ascii_uppercase() || b[ge].is_ascii_digit())
                {
                    ge += 1;
                }
                if ge == gs || n + (ge - gs) > 34 || (ge < b.len() && b[ge].is_ascii_alphanumeric())
                {
                    break;
                }
                compact[n..n + (ge - gs)].copy_from_slice(&b[gs..ge]);
                n += ge - gs;
                ends.push((n, ge));
                p = ge;
                if ge - gs < 4 {
                    break;
                }
            }
            for &(len, raw_end) in ends.iter().rev() {
                if len >= 15 && std::str::from_utf8(&compact[..len]).is_ok_and(v::iban) {
                    self.push(Entity::IbanCode, start, raw_end, 0.95);
                    return Some(raw_end);
                }
            }
        }
        if t.len() == 2 && t.iter().all(up) && self.rules.region_on(Region::Uk) {
            // "AB 12 34 56 C"
            let g = b.get(end..(end + 9).min(b.len()))?;
            if g.len() == 9
                && g[0] == b' '
                && g[3] == b' '
                && g[6] == b' '
                && [1, 2, 4, 5, 7, 8].iter().all(|&i| g[i].is_ascii_digit())
            {
                let mut compact = [0u8; 9];
                compact[..2].copy_from_slice(t);
                for (k, &i) in [1, 2, 4, 5, 7, 8].iter().enumerate() {
                    compact[2 + k] = g[i];
                }
                let mut e = end + 9;
                let mut len = 8;
                if b.get(e) == Some(&b' ')
                    && b.get(e + 1).is_some_and(|c| matches!(c, b'A'..=b'D'))
                    && b.get(e + 2).is_none_or(|c| !c.is_ascii_alphanumeric())
                {
                    compact[8] = b[e + 1];
                    len = 9;
                    e += 2;
                }
                if b.get(e).is_none_or(|c| !c.is_ascii_alphanumeric())
                    && v::uk_nino(&compact[..len])
                {
                    self.push(Entity::UkNino, start, e, 0.85);
                    return Some(e);
                }
            }
        }
        None
    }

    /// Examine one chunk; true when it was recognised as something whole.
    fn chunk(&mut self, start: usize, end: usize, f: &Flags) -> bool {
        let text = &self.s[start..end];
        if f.colon
            && f.slash
            && let Some(p) = text.find("://")
        {
            return self.url_with_scheme(start, end, start + p);
        }
        if f.at {
            self.email(start, end);
        }
        let (ts, te) = trim_punct(self.b, start, end);
        if ts >= te {
            return false;
        }
        let t = &self.s[ts..te];
        if f.colon && !f.at {
            // IPv6 may start with `::`, which `trim_punct` would strip.
            let mut e6 = end;
            while e6 > start && matches!(self.b[e6 - 1], b'.' | b',' | b'!' | b'?') {
                e6 -= 1;
            }
            let raw = &self.s[start..e6];
            if raw.bytes().filter(|&c| c == b':').count() >= 2 && self.ipv6(start, e6) {
                return true;
            }
        }
        if t.starts_with("eyJ") && self.jwt(ts, te) {
            return true;
        }
        // A trailing full stop does not make a token a domain.
        if !f.at && t.contains('.') {
            if self.token_secret(ts, te) {
                return true;
            }
            return self.bare_domain(ts, te);
        }
        // Identifiers: the part after a `key=` / `key:` prefix, or the whole chunk.
        let (vs, ve) = match t.rfind(['=', ':']) {
            Some(p) if p + 1 < t.len() => (ts + p + 1, te),
            _ => (ts, te),
        };
        if ve - vs >= 8 && (f.digit || f.under || f.dash || f.upper) {
            if self.token_secret(vs, ve) {
                return true;
            }
            return self.alnum_id(vs, ve);
        }
        false
    }

    fn email(&mut self, start: usize, end: usize) {
        let b = self.b;
        let mut from = start;
        while let Some(off) = b[from..end].iter().position(|&c| c == b'@') {
            let at = from + off;
            from = at + 1;
            let mut ls = at;
            while ls > start && is_local(b[ls - 1]) {
                ls -= 1;
            }
            while ls < at && matches!(b[ls], b'.' | b'-' | b'+') {
                ls += 1;
            }
            let mut de = at + 1;
            while de < end && (b[de].is_ascii_alphanumeric() || b[de] == b'-' || b[de] == b'.') {
                de += 1;
            }
            while de > at + 1 && matches!(b[de - 1], b'.' | b'-') {
                de -= 1;
            }
            if ls == at || de <= at + 1 || at - ls > 64 {
                continue;
            }
            let domain = &self.s[at + 1..de];
            if b[at - 1] == b'.' || !valid_domain(domain) {
                continue;
            }
            self.push(Entity::EmailAddress, ls, de, 0.9);
        }
    }

    fn url_with_scheme(&mut self, start: usize, end: usize, colon: usize) -> bool {
        let b = self.b;
        let mut ss = colon;
        while ss > start
            && (b[ss - 1].is_ascii_alphanumeric() || matches!(b[ss - 1], b'+' | b'.' | b'-'))
        {
            ss -= 1;
        }
        while ss < colon && !b[ss].is_ascii_alphabetic() {
            ss += 1;
        }
        let scheme = self.s[ss..colon].to_ascii_lowercase();
        let (_, mut ue) = trim_punct(b, ss, end);
        // A closing parenthesis or quote was already a delimiter; drop a trailing `.`/`,`/`)`.
        while ue > colon + 3 && matches!(b[ue - 1], b'.' | b',' | b'!' | b'?' | b':' | b'*') {
            ue -= 1;
        }
        // `mysql://` alone, or trimmed back into the scheme: nothing to judge.
        let Some(rest) = self
            .s
            .get(colon + 3..ue)
            .filter(|_| ss < colon && ue > colon + 3)
        else {
            return false;
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let (userinfo, host) = match authority.rfind('@') {
            Some(p) => (Some(&authority[..p]), &authority[p + 1..]),
            None => (None, authority),
        };
        let db = matches!(
            scheme.as_str(),
            "postgres"
                | "postgresql"
                | "mysql"
                | "mariadb"
                | "mongodb"
                | "mongodb+srv"
                | "redis"
                | "rediss"
                | "amqp"
                | "amqps"
                | "mssql"
                | "sqlserver"
                | "oracle"
                | "jdbc:postgresql"
                | "jdbc:mysql"
                | "clickhouse"
                | "cockroachdb"
                | "couchdb"
                | "neo4j"
                | "memcached"
                | "ldap"
                | "ldaps"
                | "ftp"
                | "sftp"
                | "smtp"
                | "smtps"
        ) || scheme.starts_with("jdbc:");
        if let Some((_, pw)) = userinfo.and_then(|ui| ui.split_once(':'))
            && !pw.is_empty()
            && !is_placeholder(pw)
        {
            self.push(Entity::DatabaseUrl, ss, ue, if db { 0.95 } else { 0.8 });
            return true;
        }
        if matches!(
            scheme.as_str(),
            "http" | "https" | "ftp" | "ws" | "wss" | "sftp" | "file"
        ) && (!host.is_empty() || scheme == "file")
        {
            self.push(Entity::Url, ss, ue, 0.85);
            return true;
        }
        db
    }

    fn bare_domain(&mut self, ts: usize, te: usize) -> bool {
        let t = &self.s[ts..te];
        // The host part: up to the first `/`, `?`, `#` or `:port`.
        let host_end = t.find(['/', '?', '#', ':', '=']).unwrap_or(t.len());
        if host_end == 0 || t[..host_end].contains('@') {
            return false;
        }
        let host = &t[..host_end];
        if !valid_domain(host) || host.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
            return false;
        }
        let labels: Vec<&str> = host.split('.').collect();
        let tld = labels.last().copied().unwrap_or("");
        let name = labels.first().copied().unwrap_or("");
        let www = name.eq_ignore_ascii_case("www");
        let has_path = host_end < t.len() && t.as_bytes()[host_end] == b'/';
        let tld_l = tld.to_ascii_lowercase();
        // A lower-case host whose last label is an extension or a member name is
        // code or a file (`README.md`, `main.rs`, `user.name`), not a site.
        let code_like = CODE_SUFFIXES.contains(&tld_l.as_str())
            || name.bytes().any(|c| c.is_ascii_uppercase()) && !www
            || tld.bytes().any(|c| c.is_ascii_uppercase()) && tld != tld.to_ascii_uppercase();
        let common = COMMON_TLDS.contains(&tld_l.as_str()) || (tld.len() == 2 && !code_like);
        let score = if www {
            0.8
        } else if code_like {
            if labels.len() >= 3 && has_path {
                0.5
            } else {
                return false;
            }
        } else if common {
            0.7
        } else if labels.len() >= 3 || has_path {
            0.5
        } else {
            0.3
        };
        let end = if has_path {
            trim_url_end(self.b, ts + host_end, te)
        } else {
            ts + host_end
        };
        self.push(Entity::Url, ts, end, score);
        true
    }

    fn ipv6(&mut self, ts: usize, te: usize) -> bool {
        let t = &self.s[ts..te];
        let (addr, _zone) = t.split_once('%').unwrap_or((t, ""));
        // `host:port` forms like `[::1]:8080` lose their brackets as delimiters.
        if addr.len() < 3
            || !addr
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        {
            return false;
        }
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        // `12:30:45`-like times never parse; `::` alone or `1::` are too short to matter.
        let groups = addr.split(':').filter(|g| !g.is_empty()).count();
        if groups < 2 && addr != "::1" {
            return false;
        }
        self.push(Entity::IpAddress, ts, ts + addr.len(), 0.85);
        true
    }

    fn jwt(&mut self, ts: usize, te: usize) -> bool {
        let t = &self.s[ts..te];
        let mut parts = t.splitn(3, '.');
        let (Some(h), Some(p), sig) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let b64 = |x: &str| {
            x.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        };
        let sig = sig.unwrap_or("");
        let sig_len = sig
            .bytes()
            .take_while(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            .count();
        if h.len() < 10 || p.len() < 10 || !b64(h) || !b64(p) || !p.starts_with("eyJ") {
            return false;
        }
        let end = ts
            + h.len()
            + 1
            + p.len()
            + if t.len() > h.len() + p.len() + 1 {
                1 + sig_len
            } else {
                0
            };
        self.push(Entity::Jwt, ts, end, 0.95);
        true
    }

    fn pem(&mut self, start: usize) -> Option<usize> {
        let rest = &self.s[start..];
        let head_end = rest
            .get(10..rest.len().min(80))
            .and_then(|h| h.find("-----"))
            .map(|p| p + 10)?;
        let label = &rest[10..head_end];
        if !label.ends_with("PRIVATE KEY") {
            return None;
        }
        let body_start = head_end + 5;
        let end = match rest[body_start..].find("-----END") {
            Some(p) => {
                let e = body_start + p + 8;
                match rest[e..].find("-----") {
                    Some(q) if q <= 80 => e + q + 5,
                    _ => e,
                }
            }
            // Truncated block: take the base64 body that follows.
            None => {
                body_start
                    + rest[body_start..]
                        .bytes()
                        .take_while(|&c| {
                            c.is_ascii_alphanumeric()
                                || matches!(
                                    c,
                                    b'+' | b'/' | b'=' | b'\n' | b'\r' | b' ' | b':' | b'-' | b'\\'
                                )
                        })
                        .count()
            }
        };
        self.push(Entity::PrivateKey, start, start + end, 1.0);
        Some(start + end)
    }

    /// Vendor tokens recognised by prefix and shape.
    fn token_secret(&mut self, vs: usize, ve: usize) -> bool {
        let t = &self.s[vs..ve];
        let tb = t.as_bytes();
        let alnum = |x: &[u8]| x.iter().all(u8::is_ascii_alphanumeric);
        let hit = if tb.len() == 20
            && matches!(
                &tb[..4],
                b"AKIA"
                    | b"ASIA"
                    | b"AGPA"
                    | b"AIDA"
                    | b"AROA"
                    | b"ANPA"
                    | b"ANVA"
                    | b"AIPA"
                    | b"ABIA"
                    | b"ACCA"
            )
            && tb[4..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            Some((Entity::AwsAccessKey, 0.9))
        } else if (tb.len() == 40
            && matches!(&tb[..4], b"ghp_" | b"gho_" | b"ghu_" | b"ghs_" | b"ghr_")
            && alnum(&tb[4..]))
            || (t.starts_with("github_pat_")
                && tb.len() >= 50
                && tb[11..]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_'))
        {
            Some((Entity::GithubToken, 0.95))
        } else if tb.len() >= 15
            && tb.starts_with(b"xox")
            && matches!(tb[3], b'b' | b'p' | b'a' | b'r' | b's' | b'e')
            && tb[4] == b'-'
            && tb[5..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        {
            Some((Entity::SlackToken, 0.9))
        } else if (t.starts_with("sk_live_")
            || t.starts_with("rk_live_")
            || t.starts_with("sk_test_")
            || t.starts_with("rk_test_"))
            && tb.len() >= 24
            && alnum(&tb[8..])
        {
            Some((Entity::StripeKey, 0.9))
        } else if tb.len() == 39
            && t.starts_with("AIza")
            && tb[4..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        {
            Some((Entity::GoogleApiKey, 0.9))
        } else if t.starts_with("ya29.")
            && tb.len() >= 30
            && tb[5..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        {
            Some((Entity::GoogleApiKey, 0.85))
        } else {
            None
        };
        match hit {
            Some((e, s)) => {
                self.push(e, vs, ve, s);
                true
            }
            None => false,
        }
    }

    /// Alphanumeric identifiers by shape, each confirmed by its validator.
    fn alnum_id(&mut self, vs: usize, ve: usize) -> bool {
        let t = &self.s[vs..ve];
        let tb = t.as_bytes();
        let n = tb.len();
        if !tb.iter().all(|c| c.is_ascii_alphanumeric()) {
            return self.crypto(vs, ve);
        }
        let upper_digits = tb
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if upper_digits
            && n >= 4
            && tb[..2].iter().all(u8::is_ascii_uppercase)
            && tb[2..4].iter().all(u8::is_ascii_digit)
            && (15..=34).contains(&n)
            && v::iban(t)
        {
            self.push(Entity::IbanCode, vs, ve, 0.95);
            return true;
        }
        if n == 9 && self.rules.region_on(Region::Uk) && v::uk_nino(tb) {
            self.push(Entity::UkNino, vs, ve, 0.85);
            return true;
        }
        if n == 9 && self.rules.region_on(Region::Eu) && v::es_nif(tb) {
            self.push(Entity::EsNif, vs, ve, 0.9);
            return true;
        }
        if n == 9 && self.rules.region_on(Region::Sg) && v::sg_nric(tb) {
            self.push(Entity::SgNricFin, vs, ve, 0.9);
            return true;
        }
        if n == 16 && self.rules.region_on(Region::Eu) && v::it_fiscal_code(tb) {
            self.push(Entity::ItFiscalCode, vs, ve, 0.95);
            return true;
        }
        if n == 10 && self.rules.region_on(Region::In) && v::in_pan(tb) {
            self.push(Entity::InPan, vs, ve, 0.85);
            return true;
        }
        if n == 9 && v::dea(tb) {
            self.push(Entity::MedicalLicense, vs, ve, 0.75);
            return true;
        }
        if self.crypto(vs, ve) {
            return true;
        }
        if self.rules.region_on(Region::Us) && tb[0].is_ascii_uppercase() {
            let rest = &tb[1..];
            let digits_rest = rest.iter().all(u8::is_ascii_digit);
            // Next-generation US passports: one letter and eight digits.
            if n == 9 && digits_rest {
                self.push(Entity::UsPassport, vs, ve, 0.3);
            }
            // Letter + digits licence formats (CA, FL, IL, NY, WA …).
            if digits_rest && (7..=14).contains(&rest.len()) {
                self.push(Entity::UsDriverLicense, vs, ve, 0.25);
            }
        }
        if self.rules.region_on(Region::Us) && us_licence_shape(tb) {
            self.push(Entity::UsDriverLicense, vs, ve, 0.25);
        }
        false
    }

    fn crypto(&mut self, vs: usize, ve: usize) -> bool {
        let t = &self.s[vs..ve];
        let ok = match t.as_bytes().first() {
            Some(b'1' | b'3') => v::bitcoin_base58(t),
            Some(b'b' | b'B' | b't') => t.len() >= 14 && v::bitcoin_bech32(t),
            Some(b'0') => t.len() == 42 && v::ethereum(t),
            _ => false,
        };
        if ok {
            self.push(Entity::Crypto, vs, ve, 0.95);
        }
        ok
    }

    /// A value assigned to a secret-like name.
    pub(super) fn secret_value(&mut self, vs: usize, ve: usize, password: bool) {
        let (vs, ve) = trim_punct(self.b, vs, ve);
        if vs >= ve {
            return;
        }
        let t = &self.s[vs..ve];
        if is_placeholder(t) || t.starts_with("${") || t.starts_with("{{") || t.starts_with('$') {
            return;
        }
        if self
            .hits
            .iter()
            .any(|h| h.start <= vs && h.end >= ve && h.entity.is_secret())
        {
            return;
        }
        let e = v::entropy(t.as_bytes());
        let classes = [
            t.bytes().any(|c| c.is_ascii_lowercase()),
            t.bytes().any(|c| c.is_ascii_uppercase()),
            t.bytes().any(|c| c.is_ascii_digit()),
            t.bytes().any(|c| !c.is_ascii_alphanumeric()),
        ]
        .iter()
        .filter(|&&x| x)
        .count();
        let score = if password {
            if t.len() >= 6 && classes >= 2 {
                0.8
            } else if t.len() >= 6 {
                0.5
            } else {
                return;
            }
        } else if t.len() >= 16 && e >= 3.0 && classes >= 2 {
            0.8
        } else if t.len() >= 10 && e >= 2.5 && classes >= 2 {
            0.5
        } else {
            return;
        };
        self.push(Entity::GenericSecret, vs, ve, score);
    }
}

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn valid_domain(d: &str) -> bool {
    if d.len() < 4 || d.len() > 253 || !d.contains('.') {
        return false;
    }
    let mut labels = 0;
    for l in d.split('.') {
        labels += 1;
        if l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-') {
            return false;
        }
        if !l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
            return false;
        }
    }
    labels >= 2 && d.rsplit('.').next().is_some_and(gz::is_tld)
}

fn trim_punct(b: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e
        && matches!(
            b[s],
            b'.' | b':' | b'=' | b'!' | b'?' | b'*' | b'#' | b'&' | b'~' | b'-' | b'/' | b'+'
        )
    {
        s += 1;
    }
    while e > s
        && matches!(
            b[e - 1],
            b'.' | b':' | b'=' | b'!' | b'?' | b'*' | b'&' | b'~' | b'/' | b'-'
        )
    {
        e -= 1;
    }
    (s, e)
}

fn trim_url_end(b: &[u8], from: usize, mut e: usize) -> usize {
    while e > from && matches!(b[e - 1], b'.' | b',' | b'!' | b'?' | b':' | b'*') {
        e -= 1;
    }
    e
}

fn next_non_space_is_sep(b: &[u8], mut p: usize) -> bool {
    let lim = (p + 4).min(b.len());
    while p < lim && matches!(b[p], b' ' | b'"' | b'\'' | b'\t') {
        p += 1;
    }
    p < b.len() && matches!(b[p], b':' | b'=')
}

fn is_placeholder(t: &str) -> bool {
    let l = t.to_ascii_lowercase();
    t.bytes()
        .all(|c| matches!(c, b'*' | b'x' | b'X' | b'.' | b'#' | b'-' | b'<' | b'>'))
        || matches!(
            l.as_str(),
            "null"
                | "none"
                | "nil"
                | "true"
                | "false"
                | "redacted"
                | "changeme"
                | "password"
                | "secret"
                | "undefined"
                | "string"
                | "required"
                | "optional"
                | "example"
                | "your_password"
                | "your-password"
                | "yourpassword"
                | "placeholder"
                | "hidden"
                | "masked"
                | "env"
        )
        || l.starts_with("[redacted")
        || l.starts_with("<")
        || l.starts_with("your_")
}

/// Does this identifier name a secret? `Some(true)` for passwords.
pub(super) fn secret_name(name: &str) -> Option<bool> {
    if name.len() < 3 || name.len() > 64 {
        return None;
    }
    // Cheap filter before splitting into words: the last word must be one of
    // the names below, so the identifier must end with one (any case).
    let tail = name
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .as_bytes();
    let ends = |sfx: &[u8]| {
        tail.len() >= sfx.len() && tail[tail.len() - sfx.len()..].eq_ignore_ascii_case(sfx)
    };
    let suffixes: &[&[u8]] = match tail.last().map(u8::to_ascii_lowercase) {
        Some(b's') => &[b"pass", b"sas", b"credentials"],
        Some(b'd') => &[b"word", b"passwd", b"pwd"],
        Some(b'e') => &[b"phrase"],
        Some(b't') => &[b"secret"],
        Some(b'y') => &[b"key"],
        Some(b'l') => &[b"credential"],
        Some(b'n') => &[b"token"],
        _ => return None,
    };
    if !suffixes.iter().any(|s| ends(s)) {
        return None;
    }
    let mut w = Vec::new();
    context::words_of(name, &mut w);
    let last = w.last()?;
    let prev = w
        .len()
        .checked_sub(2)
        .and_then(|i| w.get(i))
        .map(String::as_str);
    match last.as_str() {
        "password" | "passwd" | "pwd" | "passphrase" | "pass" => Some(true),
        "secret" | "apikey" | "accesskey" | "accountkey" | "secretkey" | "sas" | "credential"
        | "credentials" => Some(false),
        "token"
            if !matches!(
                prev,
                Some("max" | "num" | "min" | "total" | "count" | "next" | "page" | "csrf")
            ) =>
        {
            Some(false)
        }
        "key"
            if matches!(
                prev,
                Some(
                    "api"
                        | "access"
                        | "secret"
                        | "private"
                        | "account"
                        | "signing"
                        | "encryption"
                        | "master"
                        | "auth"
                        | "client"
                )
            ) =>
        {
            Some(false)
        }
        _ => None,
    }
}

/// US driver's licence numbers beyond "one letter and digits", by the
/// states' published layouts: two letters and six or seven digits with an
/// optional letter (HI, ID, …), three letters and six digits (ND), three
/// digits, two letters and four digits (IA), "WDL" and nine letters or digits
/// (WA). Upper-case only; weak without licence context.
fn us_licence_shape(t: &[u8]) -> bool {
    let alpha = |x: &[u8]| x.iter().all(u8::is_ascii_uppercase);
    let digit = |x: &[u8]| x.iter().all(u8::is_ascii_digit);
    match t.len() {
        8..=10 => {
            let (head, rest) = t.split_at(2);
            let (body, tail) = rest.split_at(if t.len() == 10 { 7 } else { rest.len() });
            let two_letters = alpha(head) && digit(body) && (tail.is_empty() || alpha(tail));
            let three_letters = t.len() == 9 && alpha(&t[..3]) && digit(&t[3..]);
            let iowa = t.len() == 9 && digit(&t[..3]) && alpha(&t[3..5]) && digit(&t[5..]);
            two_letters || three_letters || iowa
        }
        12 => t.starts_with(b"WDL") && t.iter().all(u8::is_ascii_alphanumeric),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    /// The cases in `shared/testdata/detect/chunks.toml`.
    #[test]
    fn cases() {
        super::super::testdata::check_file!("chunks.toml");
    }

    /// The cases in `shared/testdata/detect/secrets.toml`.
    #[test]
    fn secret_cases() {
        super::super::testdata::check_file!("secrets.toml");
    }
}
