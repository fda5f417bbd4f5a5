//! JSON member keys as context. In a tool call the key says what its value
//! is, the way a phrase before it would in prose: `"password": "…"` is a
//! secret, `"last_name": "Koivisto"` a person even when our tables lack the
//! name, `"city": "Αθήνα"` a place, `"nationality": "Finnish"` a group,
//! `"phone": "0665 862 899"` a phone number in a layout the numeric pass
//! would not offer alone — and `"issn": "0317-8471"` is no phone number,
//! whatever its digits look like.
//!
//! Only the whole value is judged, and only when it is shaped like what the
//! key names (a few words of letters; a run of phone digits), so
//! `"name": "Quarterly report"` or `"country": "n/a"` stay quiet.

use super::Scanner;
use super::chunks::secret_name;
use crate::detect::context;
use crate::detect::entity::Entity;
use crate::detect::gazetteer as gz;

#[derive(Clone, Copy, PartialEq, Debug)]
enum FieldKind {
    /// `first_name`, `cardholder`: any name-shaped value.
    Person,
    /// `name`, `customer`, `recipient`: a name-shaped value that is not
    /// made of dictionary words.
    MaybePerson,
    Place,
    Group,
    Phone,
    /// ISBN, ISSN, versions, hashes, ports…: digits here are not personal.
    Identifier,
    /// Languages, operating systems, products: capitalised words here name
    /// things ("Tamil", "Arch Linux"), not people or places.
    Thing,
}

/// Key words before `name` that make it a person's name (`customer_name`).
const PERSON_NAME_PREFIX: &[&str] = &[
    "full",
    "first",
    "last",
    "given",
    "family",
    "customer",
    "patient",
    "contact",
    "employee",
    "holder",
    "cardholder",
    "recipient",
    "sender",
    "legal",
    "middle",
    "maiden",
    "client",
    "guest",
    "passenger",
    "member",
    "beneficiary",
    "person",
    "owner",
];

/// Keys that are a person's name on their own.
const PERSON_KEYS: &[&str] = &[
    "surname",
    "firstname",
    "lastname",
    "fullname",
    "givenname",
    "familyname",
    "cardholder",
];

/// Keys whose value is often, not always, a person.
const MAYBE_PERSON_KEYS: &[&str] = &[
    "name",
    "customer",
    "recipient",
    "sender",
    "employee",
    "patient",
    "attendee",
    "assignee",
    "beneficiary",
    "passenger",
    "guest",
    "contact",
    "author",
    "requester",
    "reporter",
];

const PLACE_KEYS: &[&str] = &[
    "city",
    "town",
    "village",
    "country",
    "location",
    "place",
    "region",
    "state",
    "province",
    "county",
    "district",
    "municipality",
    "birthplace",
    "hometown",
    "destination",
    "locality",
    "suburb",
    "prefecture",
];

const THING_KEYS: &[&str] = &[
    "language",
    "lang",
    "locale",
    "os",
    "platform",
    "browser",
    "product",
    "model",
    "device",
    "brand",
    "vendor",
    "software",
    "package",
    "framework",
    "library",
    "font",
    "theme",
];

const GROUP_KEYS: &[&str] = &["nationality", "citizenship", "ethnicity", "religion"];

const PHONE_KEYS: &[&str] = &[
    "phone",
    "telephone",
    "tel",
    "mobile",
    "cell",
    "fax",
    "msisdn",
    "whatsapp",
];

const IDENTIFIER_KEYS: &[&str] = &[
    "isbn", "issn", "ean", "upc", "gtin", "imei", "sku", "asin", "isin", "serial", "barcode",
    "mac", "version", "build", "commit", "sha", "hash", "checksum", "digest", "uuid", "guid",
    "port", "pid",
];

/// Numeric entities an identifier's digits can look like.
const NUMERIC_LOOKALIKES: &[Entity] = &[
    Entity::PhoneNumber,
    Entity::UsBankNumber,
    Entity::UsDriverLicense,
    Entity::UsPassport,
    Entity::UsSsn,
    Entity::UsItin,
    Entity::DateTime,
    Entity::UkNhs,
    Entity::AuTfn,
    Entity::InAadhaar,
    Entity::IpAddress,
];

/// What a member key says its value is, from the key's words
/// (`billing_city`, `firstName`, `Phone Number`).
fn field_kind(key: &str) -> Option<FieldKind> {
    let mut words: Vec<String> = Vec::new();
    context::words_of(key, &mut words);
    let last = words.last()?.as_str();
    let before_last = words.len().checked_sub(2).and_then(|i| words.get(i));
    let any = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    if any(IDENTIFIER_KEYS) {
        return Some(FieldKind::Identifier);
    }
    if THING_KEYS.contains(&last) {
        return Some(FieldKind::Thing);
    }
    if PHONE_KEYS.contains(&last)
        || last == "number"
            && before_last.is_some_and(|w| PHONE_KEYS.contains(&w.as_str()) || w == "contact")
    {
        return Some(FieldKind::Phone);
    }
    if GROUP_KEYS.contains(&last) {
        return Some(FieldKind::Group);
    }
    // "country_code", "state_id" name a code, not the place: only the last word counts.
    if PLACE_KEYS.contains(&last) {
        return Some(FieldKind::Place);
    }
    if any(PERSON_KEYS)
        || last == "name" && before_last.is_some_and(|w| PERSON_NAME_PREFIX.contains(&w.as_str()))
    {
        return Some(FieldKind::Person);
    }
    if MAYBE_PERSON_KEYS.contains(&last) && (words.len() == 1 || last != "name") {
        return Some(FieldKind::MaybePerson);
    }
    None
}

/// A few words of letters (any script), as names and places are written.
fn name_shaped(t: &str) -> bool {
    let words = t.split_whitespace().count();
    (1..=4).contains(&words)
        && t.len() <= 80
        && t.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && t.chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '-' | '.' | '\u{2019}'))
}

/// Digits as a phone number is written (`+7 (963) 409-11-22`, `0665862899`,
/// `07700 900123 ext. 12`): 6 to 15 digits and phone punctuation only.
fn phone_shaped(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    let main = lower
        .split(" ext")
        .next()
        .and_then(|m| m.split(" x").next())
        .unwrap_or("");
    let digits = main.bytes().filter(u8::is_ascii_digit).count();
    (6..=15).contains(&digits)
        && main.bytes().all(|c| {
            c.is_ascii_digit() || matches!(c, b' ' | b'+' | b'-' | b'(' | b')' | b'.' | b'/')
        })
        && main
            .bytes()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|c| c.is_ascii_digit() || c == b'+' || c == b'(')
}

impl Scanner<'_> {
    /// Judge the whole value of a JSON member by its key (run after the
    /// passes, which it may overrule).
    pub(super) fn key_value(&mut self, key: &str) {
        if let Some(pw) = secret_name(key) {
            let t = self.s;
            if !t.is_empty() && t.len() <= 512 && !t.contains(char::is_whitespace) {
                self.secret_value(0, t.len(), pw);
            }
        }
        let Some(kind) = field_kind(key) else {
            return;
        };
        let t = self.s.trim();
        let off = self.s.len() - self.s.trim_start().len();
        let (vs, ve) = (off, off + t.len());
        if kind == FieldKind::Identifier {
            self.hits
                .retain(|h| !NUMERIC_LOOKALIKES.contains(&h.entity));
            return;
        }
        if kind == FieldKind::Thing {
            self.hits
                .retain(|h| !matches!(h.entity, Entity::Person | Entity::Location | Entity::Nrp));
            return;
        }
        if kind == FieldKind::Phone {
            if phone_shaped(t) && !self.covered(Entity::PhoneNumber, vs, ve) {
                self.hits.retain(|h| {
                    !(NUMERIC_LOOKALIKES.contains(&h.entity) && vs <= h.start && h.end <= ve)
                });
                self.push(Entity::PhoneNumber, vs, ve, 0.7);
            }
            return;
        }
        if !name_shaped(t) {
            return;
        }
        let (entity, score) = match kind {
            FieldKind::Person => (Entity::Person, 0.7),
            // Two words or more are a full name even when one of them is
            // also a place ("Jordan Lee", "Florence Paris").
            FieldKind::MaybePerson => match self.value_flags(t) {
                Some(f)
                    if f & (gz::FIRST | gz::LAST) != 0
                        || f == 0
                        || t.split_whitespace().count() >= 2 =>
                {
                    (Entity::Person, 0.6)
                }
                _ => return,
            },
            FieldKind::Place => match self.value_flags(t) {
                Some(f) if f & gz::PLACE != 0 => (Entity::Location, 0.75),
                Some(0) => (Entity::Location, 0.6),
                _ => return,
            },
            FieldKind::Group => match self.value_flags(t) {
                Some(f) if f & gz::NRP != 0 => (Entity::Nrp, 0.75),
                Some(0) => (Entity::Nrp, 0.6),
                _ => return,
            },
            FieldKind::Phone | FieldKind::Identifier | FieldKind::Thing => return,
        };
        if self.covered(entity, vs, ve) {
            return;
        }
        // The key outranks the tables: "Jordan" under `country` is no
        // person, "Florence" under `first_name` no city.
        self.hits.retain(|h| {
            !(matches!(h.entity, Entity::Person | Entity::Location | Entity::Nrp)
                && h.entity != entity
                && vs <= h.start
                && h.end <= ve)
        });
        self.push(entity, vs, ve, score);
    }

    fn covered(&self, entity: Entity, vs: usize, ve: usize) -> bool {
        self.hits
            .iter()
            .any(|h| h.entity == entity && h.start <= vs && h.end >= ve)
    }

    /// Gazetteer flags of a name-shaped value: the whole value's, else the
    /// union of its words' (`0`: a proper noun in no table and no
    /// dictionary). `None` when the value is written like ordinary words —
    /// in lower case, or made of dictionary words only — and the tables do
    /// not know it as a name, place or group.
    fn value_flags(&mut self, t: &str) -> Option<u64> {
        let whole = self.lookup(t);
        let mut union = whole;
        let mut all_dictionary = true;
        let mut lower = false;
        for w in t.split_whitespace() {
            let f = self.lookup(w.trim_matches(|c: char| !c.is_alphabetic()));
            union |= f;
            all_dictionary &= f & (gz::DICT | gz::COMMON_WORD) != 0;
            lower |= w.chars().next().is_some_and(char::is_lowercase);
        }
        let proper = union & (gz::FIRST | gz::LAST | gz::PLACE | gz::NRP) != 0;
        if !proper && (lower || all_dictionary && gz::HAS_DICTIONARY) {
            return None;
        }
        // Known as something else only ("Monday", "Success"): keep the strong
        // flags, or say "unknown proper noun".
        Some(union & (gz::FIRST | gz::LAST | gz::PLACE | gz::NRP))
    }
}

#[cfg(test)]
mod tests {
    use super::{FieldKind, field_kind, name_shaped, phone_shaped};

    #[test]
    fn keys_say_what_values_are() {
        let k = |s: &str| field_kind(s);
        assert_eq!(k("first_name"), Some(FieldKind::Person));
        assert_eq!(k("customerName"), Some(FieldKind::Person));
        assert_eq!(k("name"), Some(FieldKind::MaybePerson));
        assert_eq!(k("file_name"), None);
        assert_eq!(k("billing_city"), Some(FieldKind::Place));
        assert_eq!(k("country_code"), None);
        assert_eq!(k("Phone Number"), Some(FieldKind::Phone));
        assert_eq!(k("nationality"), Some(FieldKind::Group));
        assert_eq!(k("issn"), Some(FieldKind::Identifier));
        assert_eq!(k("build_version"), Some(FieldKind::Identifier));
    }

    #[test]
    fn shapes() {
        assert!(name_shaped("Αθήνα"));
        assert!(name_shaped("Anne-Marie O'Neil"));
        assert!(!name_shaped("eu-west-1"));
        assert!(!name_shaped("a b c d e"));
        assert!(phone_shaped("+7 (963) 409-11-22"));
        assert!(phone_shaped("07700 900123 ext. 12"));
        assert!(!phone_shaped("12345"));
        assert!(!phone_shaped("call me"));
    }
}

#[cfg(test)]
mod cases {
    /// `shared/testdata/detect/fields.toml`: values judged by their member key.
    #[test]
    fn cases() {
        super::super::testdata::check_file!("fields.toml");
    }
}
