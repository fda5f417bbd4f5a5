//! Byte-preserving JSON: scan a JSON *text* and redact it in place, so every
//! byte outside a replaced value (whitespace, key order, number spelling,
//! escapes elsewhere in the same string) stays as it was.
//!
//! serde_json validates the text first (clear error messages, its recursion
//! limit); this module then walks the already-valid bytes with a small lexer
//! that tracks the JSON Pointer and maps decoded string offsets back to raw
//! byte offsets. serde_json has no API exposing raw token positions, hence
//! the hand-written walker.

use std::collections::HashMap;

use super::memo::ScanMemo;
use super::redact::{merge_spans, placeholder_for_number};
use super::rules::CompiledRules;
use super::scan::{Field, Finding, ScanError, ScanOptions, push_escaped, push_index};

/// A string or number token found by the walker.
struct Token<'a> {
    pointer: &'a str,
    in_key: bool,
    /// Raw byte range of the token (strings include their quotes).
    raw: (usize, usize),
    /// Decoded text (numbers: as written).
    text: std::borrow::Cow<'a, str>,
    /// For decoded strings with escapes: raw offset of each decoded byte, plus
    /// one entry for the end. Empty when the string has no escapes.
    map: Vec<usize>,
    is_number: bool,
    key: Option<&'a str>,
}

impl Token<'_> {
    fn raw_offset(&self, decoded: usize) -> usize {
        if self.map.is_empty() {
            self.raw.0 + if self.is_number { 0 } else { 1 } + decoded
        } else {
            self.map
                .get(decoded)
                .copied()
                .unwrap_or(self.raw.1.saturating_sub(1))
        }
    }
}

struct Walker<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    path: String,
    max_depth: usize,
}

fn err(msg: &str) -> ScanError {
    ScanError::InvalidJson(msg.to_owned())
}

impl<'a> Walker<'a> {
    fn ws(&mut self) {
        while self.pos < self.b.len() && matches!(self.b[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn value(
        &mut self,
        key: Option<&str>,
        depth: usize,
        f: &mut dyn FnMut(&Token<'_>) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        self.ws();
        match self.b.get(self.pos) {
            Some(b'{') => {
                if depth >= self.max_depth {
                    return Err(ScanError::TooDeep {
                        max: self.max_depth,
                        pointer: self.path.clone(),
                    });
                }
                self.pos += 1;
                self.ws();
                if self.b.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    let (ks, ke, ktext, kmap) = self.string()?;
                    let len = self.path.len();
                    self.path.push('/');
                    push_escaped(&mut self.path, &ktext);
                    f(&Token {
                        pointer: &self.path,
                        in_key: true,
                        raw: (ks, ke),
                        text: std::borrow::Cow::Borrowed(&ktext),
                        map: kmap,
                        is_number: false,
                        key: None,
                    })?;
                    self.ws();
                    if self.b.get(self.pos) != Some(&b':') {
                        return Err(err("expected ':'"));
                    }
                    self.pos += 1;
                    self.value(Some(&ktext), depth + 1, f)?;
                    self.path.truncate(len);
                    self.ws();
                    match self.b.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(err("expected ',' or '}'")),
                    }
                }
            }
            Some(b'[') => {
                if depth >= self.max_depth {
                    return Err(ScanError::TooDeep {
                        max: self.max_depth,
                        pointer: self.path.clone(),
                    });
                }
                self.pos += 1;
                self.ws();
                if self.b.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(());
                }
                let mut i = 0usize;
                loop {
                    let len = self.path.len();
                    self.path.push('/');
                    push_index(&mut self.path, i);
                    self.value(key, depth + 1, f)?;
                    self.path.truncate(len);
                    i += 1;
                    self.ws();
                    match self.b.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(err("expected ',' or ']'")),
                    }
                }
            }
            Some(b'"') => {
                let (s, e, text, map) = self.string()?;
                f(&Token {
                    pointer: &self.path,
                    in_key: false,
                    raw: (s, e),
                    text: std::borrow::Cow::Borrowed(&text),
                    map,
                    is_number: false,
                    key,
                })
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let s = self.pos;
                while self.pos < self.b.len()
                    && matches!(
                        self.b[self.pos],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.pos += 1;
                }
                let text = self.src.get(s..self.pos).ok_or_else(|| err("bad number"))?;
                f(&Token {
                    pointer: &self.path,
                    in_key: false,
                    raw: (s, self.pos),
                    text: std::borrow::Cow::Borrowed(text),
                    map: Vec::new(),
                    is_number: true,
                    key,
                })
            }
            _ => Err(err("expected a value")),
        }
    }

    fn literal(&mut self, lit: &str) -> Result<(), ScanError> {
        if self.b[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(err("bad literal"))
        }
    }

    /// Decode the string at `pos`: (raw start, raw end, text, offset map).
    /// Strings without escapes are borrowed from the source, not copied.
    fn string(
        &mut self,
    ) -> Result<(usize, usize, std::borrow::Cow<'a, str>, Vec<usize>), ScanError> {
        let s = self.pos;
        if self.b.get(s) != Some(&b'"') {
            return Err(err("expected a string"));
        }
        let mut p = s + 1;
        let mut escaped = false;
        // Jump from one quote or backslash to the next; a backslash also
        // skips the byte it escapes.
        while let Some(at) = self
            .b
            .get(p..)
            .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
        {
            p += at;
            if self.b[p] == b'"' {
                break;
            }
            escaped = true;
            p += 2;
        }
        if self.b.get(p) != Some(&b'"') {
            return Err(err("unterminated string"));
        }
        let end = p + 1;
        self.pos = end;
        let src: &'a str = self.src;
        let body = src.get(s + 1..p).ok_or_else(|| err("bad string"))?;
        if !escaped {
            return Ok((s, end, std::borrow::Cow::Borrowed(body), Vec::new()));
        }
        let mut text = String::with_capacity(body.len());
        let mut map = Vec::with_capacity(body.len() + 1);
        let bb = body.as_bytes();
        let mut i = 0;
        while i < bb.len() {
            let raw_at = s + 1 + i;
            if bb[i] != b'\\' {
                let ch_len = utf8_len(bb[i]);
                let chunk = body.get(i..i + ch_len).ok_or_else(|| err("bad UTF-8"))?;
                for _ in 0..ch_len {
                    map.push(raw_at);
                }
                text.push_str(chunk);
                i += ch_len;
                continue;
            }
            let esc = *bb.get(i + 1).ok_or_else(|| err("bad escape"))?;
            let (ch, used) = match esc {
                b'"' => ('"', 2),
                b'\\' => ('\\', 2),
                b'/' => ('/', 2),
                b'b' => ('\u{8}', 2),
                b'f' => ('\u{c}', 2),
                b'n' => ('\n', 2),
                b'r' => ('\r', 2),
                b't' => ('\t', 2),
                b'u' => {
                    let hi = hex4(bb, i + 2)?;
                    if (0xD800..0xDC00).contains(&hi)
                        && bb.get(i + 6) == Some(&b'\\')
                        && bb.get(i + 7) == Some(&b'u')
                    {
                        let lo = hex4(bb, i + 8)?;
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
                        (char::from_u32(c).unwrap_or('\u{FFFD}'), 12)
                    } else {
                        (char::from_u32(hi).unwrap_or('\u{FFFD}'), 6)
                    }
                }
                _ => return Err(err("bad escape")),
            };
            for _ in 0..ch.len_utf8() {
                map.push(raw_at);
            }
            text.push(ch);
            i += used;
        }
        map.push(p);
        Ok((s, end, std::borrow::Cow::Owned(text), map))
    }
}

fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn hex4(b: &[u8], at: usize) -> Result<u32, ScanError> {
    let h = b.get(at..at + 4).ok_or_else(|| err("bad \\u escape"))?;
    let s = std::str::from_utf8(h).map_err(|_| err("bad \\u escape"))?;
    u32::from_str_radix(s, 16).map_err(|_| err("bad \\u escape"))
}

fn walk(
    rules: &CompiledRules,
    src: &str,
    f: &mut dyn FnMut(&Token<'_>) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    if src.len() > rules.limits.max_input_bytes {
        return Err(ScanError::TooLarge {
            max: rules.limits.max_input_bytes,
        });
    }
    serde_json::from_str::<serde::de::IgnoredAny>(src)
        .map_err(|e| ScanError::InvalidJson(e.to_string()))?;
    let mut w = Walker {
        src,
        b: src.as_bytes(),
        pos: 0,
        path: String::with_capacity(64),
        max_depth: rules.limits.max_depth,
    };
    w.value(None, 0, f)
}

impl CompiledRules {
    /// Scan a JSON *text*. Pointers and offsets are the same as
    /// [`CompiledRules::scan_json`] gives for the parsed value, except that
    /// numbers are scanned as written in the text.
    ///
    /// # Errors
    /// [`ScanError::InvalidJson`] for malformed input, or a limit error.
    ///
    /// ```
    /// use shared::detect::{CompiledRules, RuleSet, ScanOptions};
    /// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
    /// let f = rules.scan_json_str(r#"{"to": "a\u0040example.com"}"#, ScanOptions::THRESHOLDED).unwrap();
    /// assert_eq!(f[0].pointer.as_deref(), Some("/to"));
    /// assert!(rules.scan_json_str("{nope", ScanOptions::ALL).is_err());
    /// ```
    pub fn scan_json_str(&self, src: &str, opts: ScanOptions) -> Result<Vec<Finding>, ScanError> {
        self.scan_raw(src, opts, false)
    }

    /// Scan a document the way the gateway scans a tool call: a JSON object
    /// or array through the JSON walk (member keys give their values
    /// context: `{"city": "Tampere"}`), anything else — or JSON that does
    /// not parse or nests too deeply — as plain text. Unlike
    /// [`Self::scan_json_str`], `start`/`end` are byte offsets into `text`
    /// itself (inside the raw string token, escapes included), so a finding
    /// can be shown where it is.
    ///
    /// # Errors
    /// [`ScanError::TooLarge`] when the text exceeds the size limit.
    ///
    /// ```
    /// use shared::detect::{CompiledRules, RuleSet, ScanOptions};
    /// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
    /// let doc = r#"{"note": "mail jane@example.com"}"#;
    /// let f = &rules.scan_document(doc, ScanOptions::THRESHOLDED).unwrap()[0];
    /// assert_eq!(&doc[f.start..f.end], "jane@example.com");
    /// assert_eq!(f.pointer.as_deref(), Some("/note"));
    /// let text = "mail jane@example.com";
    /// let f = &rules.scan_document(text, ScanOptions::THRESHOLDED).unwrap()[0];
    /// assert_eq!((f.start, f.pointer.as_deref()), (5, None));
    /// ```
    pub fn scan_document(&self, text: &str, opts: ScanOptions) -> Result<Vec<Finding>, ScanError> {
        if text.trim_start().starts_with(['{', '[']) {
            match self.scan_raw(text, opts, true) {
                Ok(found) => return Ok(found),
                Err(e @ ScanError::TooLarge { .. }) => return Err(e),
                Err(_) => {}
            }
        }
        self.scan_text_checked(text, opts)
    }

    /// [`Self::scan_document`] without thresholds.
    ///
    /// # Errors
    /// As [`Self::scan_document`].
    pub fn scan_document_all(&self, text: &str) -> Result<Vec<Finding>, ScanError> {
        self.scan_document(text, ScanOptions::ALL)
    }

    /// The raw walk; with `located`, offsets are moved from each decoded
    /// string to the raw text.
    fn scan_raw(
        &self,
        src: &str,
        opts: ScanOptions,
        located: bool,
    ) -> Result<Vec<Finding>, ScanError> {
        let mut out = Vec::new();
        let mut memo = ScanMemo::default();
        walk(self, src, &mut |t| {
            // As in the value walk: short integers match no built-in detector.
            if t.is_number
                && self.custom.is_empty()
                && t.text.len() < 7
                && t.text.bytes().all(|c| c.is_ascii_digit() || c == b'-')
            {
                return Ok(());
            }
            let field = Field {
                pointer: Some(t.pointer),
                in_key: t.in_key,
                key: t.key,
            };
            let from = out.len();
            self.scan_walked_field(&t.text, field, opts, &mut out, &mut memo);
            if located {
                for f in out.iter_mut().skip(from) {
                    f.start = t.raw_offset(f.start);
                    f.end = t.raw_offset(f.end);
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Redact findings in a JSON text, preserving every untouched byte. Each
    /// matched string span becomes `[REDACTED:<LABEL>]`; a matched number
    /// becomes that placeholder as a JSON string. Overlaps: highest score, then
    /// longest.
    ///
    /// # Errors
    /// As [`Self::scan_json_str`].
    ///
    /// ```
    /// use shared::detect::{CompiledRules, RuleSet, ScanOptions};
    /// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
    /// let src = "{ \"note\":\"ssn 536-22-8745\\n\", \"card\" : 4111111111111111 }";
    /// let found = rules.scan_json_str(src, ScanOptions::THRESHOLDED).unwrap();
    /// let out = rules.redact_json_str(src, &found).unwrap();
    /// assert_eq!(out, "{ \"note\":\"ssn [REDACTED:US_SSN]\\n\", \"card\" : \"[REDACTED:CREDIT_CARD]\" }");
    /// ```
    pub fn redact_json_str(&self, src: &str, findings: &[Finding]) -> Result<String, ScanError> {
        let mut by_field: HashMap<(&str, bool), Vec<&Finding>> = HashMap::new();
        for f in findings {
            if let Some(p) = f.pointer.as_deref() {
                by_field.entry((p, f.in_key)).or_default().push(f);
            }
        }
        let mut out = String::with_capacity(src.len());
        let mut copied = 0usize;
        walk(self, src, &mut |t| {
            let Some(fs) = by_field.get(&(t.pointer, t.in_key)) else {
                return Ok(());
            };
            let valid: Vec<&Finding> = fs
                .iter()
                .copied()
                .filter(|f| {
                    f.start < f.end
                        && f.end <= t.text.len()
                        && t.text.is_char_boundary(f.start)
                        && t.text.is_char_boundary(f.end)
                })
                .collect();
            if valid.is_empty() {
                return Ok(());
            }
            out.push_str(src.get(copied..t.raw.0).unwrap_or(""));
            if t.is_number {
                out.push_str(
                    &serde_json::to_string(&placeholder_for_number(&valid)).unwrap_or_default(),
                );
            } else {
                let mut at = t.raw.0;
                for (start, end, f) in merge_spans(&valid) {
                    let (rs, re) = (t.raw_offset(start), t.raw_offset(end));
                    out.push_str(src.get(at..rs).unwrap_or(""));
                    // Labels are restricted to characters that need no JSON escaping.
                    out.push_str(&f.placeholder());
                    at = re;
                }
                out.push_str(src.get(at..t.raw.1).unwrap_or(""));
            }
            copied = t.raw.1;
            Ok(())
        })?;
        out.push_str(src.get(copied..).unwrap_or(""));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::RuleSet;

    fn rules() -> CompiledRules {
        CompiledRules::compile(&RuleSet::default()).unwrap()
    }

    #[test]
    fn matches_value_scan() {
        let src = r#"{"a": {"b\/c": ["x", "write to jane@example.com \u00e9 ok"]}, "k~": 4111111111111111, "ip 10.1.2.3": 1}"#;
        let r = rules();
        let raw = r.scan_json_str(src, ScanOptions::ALL).unwrap();
        let val: serde_json::Value = serde_json::from_str(src).unwrap();
        let parsed = r.scan_json_all(&val).unwrap();
        assert_eq!(raw, parsed);
    }

    #[test]
    fn document_offsets_point_into_the_text() {
        let r = rules();
        let src = "{\"a\": \"\\u00e9 write to jane@example.com\", \"n\": 4111111111111111}";
        let found = r.scan_document(src, ScanOptions::ALL).unwrap();
        let spans: Vec<&str> = found.iter().map(|f| &src[f.start..f.end]).collect();
        assert_eq!(spans, ["jane@example.com", "4111111111111111"]);
        // Not JSON (or broken JSON): plain text, offsets as scan_text gives.
        let broken = "{\"a\": \"jane@example.com\"";
        assert_eq!(
            r.scan_document(broken, ScanOptions::ALL).unwrap(),
            r.scan_text_all(broken)
        );
        // Too large is refused, whether it parses or not.
        let small = rules().with_limits(crate::detect::Limits {
            max_input_bytes: 16,
            max_depth: 8,
        });
        for doc in [src, broken, "plain text longer than sixteen bytes"] {
            assert!(matches!(
                small.scan_document(doc, ScanOptions::ALL),
                Err(ScanError::TooLarge { .. })
            ));
        }
    }

    #[test]
    fn redaction_preserves_bytes_and_handles_escapes() {
        let src =
            "[\n  \"\\u00e9t\\u00e9 mail: jane@example.com\\t!\",\n  {\"jane@example.com\" : 1}\n]";
        let r = rules();
        let f = r.scan_json_str(src, ScanOptions::THRESHOLDED).unwrap();
        assert_eq!(f.len(), 2);
        let out = r.redact_json_str(src, &f).unwrap();
        assert_eq!(
            out,
            "[\n  \"\\u00e9t\\u00e9 mail: [REDACTED:EMAIL_ADDRESS]\\t!\",\n  {\"[REDACTED:EMAIL_ADDRESS]\" : 1}\n]"
        );
        assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
        // No findings: byte-identical.
        assert_eq!(r.redact_json_str(src, &[]).unwrap(), src);
    }

    #[test]
    fn invalid_and_deep_input_errors() {
        let r = rules();
        assert!(matches!(
            r.scan_json_str("{\"a\": }", ScanOptions::ALL),
            Err(ScanError::InvalidJson(_))
        ));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(r.scan_json_str(&deep, ScanOptions::ALL).is_err());
        let r = rules().with_limits(crate::detect::Limits {
            max_input_bytes: 1000,
            max_depth: 2,
        });
        assert!(matches!(
            r.scan_json_str("[[[1]]]", ScanOptions::ALL),
            Err(ScanError::TooDeep { .. })
        ));
    }
}
