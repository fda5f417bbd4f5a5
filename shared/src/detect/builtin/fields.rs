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
use crate::detect::memo::KEY_KINDS;

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum FieldKind {
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

/// Numeric entities an identifier's digits can look like: the shapes with
/// no check digit or fixed layout. A hostile agent names its keys, so a key
/// never hides what validates on its own — an SSN, ITIN, NHS number, TFN or
/// Aadhaar number, a card, an e-mail address — under `version` or `sha`.
const NUMERIC_LOOKALIKES: &[Entity] = &[
    Entity::PhoneNumber,
    Entity::UsBankNumber,
    Entity::UsDriverLicense,
    Entity::UsPassport,
    Entity::DateTime,
    Entity::IpAddress,
];

// What a key word can say; a word may say several things (`contact` alone
// is often a person, and `contact_name` is one).
/// ISBN, ISSN, versions, hashes, ports, coordinates: digits here are no
/// phone number, date or ID.
const IDENTIFIER: u8 = 1;
/// A person's name on its own (`surname`, `cardholder`).
const PERSON: u8 = 2;
/// Languages, operating systems, products.
const THING: u8 = 4;
const PHONE: u8 = 8;
/// Nationality, citizenship, ethnicity, religion.
const GROUP: u8 = 16;
const PLACE: u8 = 32;
/// Before `name`, a person's name: `customer_name`, `first_name`.
const NAME_PREFIX: u8 = 64;
/// Often, not always, a person (`recipient`, `author`).
const MAYBE_PERSON: u8 = 128;

/// The classes of one key word, in any case. A `match` on the lower-cased
/// word (a switch on length, then compares) rather than scanning word
/// lists: a key is judged for every field of a scan.
fn classes(w: &str) -> u8 {
    let mut buf = [0u8; 16];
    let Some(b) = buf.get_mut(..w.len()) else {
        return 0;
    };
    b.copy_from_slice(w.as_bytes());
    b.make_ascii_lowercase();
    let Ok(w) = std::str::from_utf8(b) else {
        return 0;
    };
    match w {
        "asin" | "barcode" | "build" | "checksum" | "commit" | "digest" | "ean" | "gtin"
        | "guid" | "hash" | "imei" | "isbn" | "isin" | "issn" | "mac" | "pid" | "port"
        | "serial" | "sha" | "sku" | "upc" | "uuid" | "version" => IDENTIFIER,
        // Coordinates: decimal digits, not a phone number or a date.
        "lat" | "lng" | "lon" | "latitude" | "longitude" | "altitude" | "coordinates"
        | "coords" => IDENTIFIER,
        "familyname" | "firstname" | "fullname" | "givenname" | "lastname" | "surname" => PERSON,
        "brand" | "browser" | "device" | "font" | "framework" | "lang" | "language" | "library"
        | "locale" | "model" | "os" | "package" | "platform" | "product" | "software" | "theme"
        | "vendor" => THING,
        "cell" | "fax" | "mobile" | "msisdn" | "phone" | "tel" | "telephone" | "whatsapp" => PHONE,
        "citizenship" | "ethnicity" | "nationality" | "religion" => GROUP,
        "birthplace" | "city" | "country" | "county" | "destination" | "district" | "hometown"
        | "locality" | "location" | "municipality" | "place" | "prefecture" | "province"
        | "region" | "state" | "suburb" | "town" | "village" => PLACE,
        "client" | "family" | "first" | "full" | "given" | "holder" | "last" | "legal"
        | "maiden" | "member" | "middle" | "owner" | "person" => NAME_PREFIX,
        "cardholder" => PERSON | NAME_PREFIX,
        "assignee" | "attendee" | "author" | "name" | "reporter" | "requester" => MAYBE_PERSON,
        "beneficiary" | "contact" | "customer" | "employee" | "guest" | "passenger" | "patient"
        | "recipient" | "sender" => NAME_PREFIX | MAYBE_PERSON,
        _ => 0,
    }
}

/// What a member key says its value is, from the key's words
/// (`billing_city`, `firstName`, `Phone Number`).
fn field_kind(key: &str) -> Option<FieldKind> {
    let (mut last, mut before_last, mut words, mut any) = ("", "", 0usize, 0u8);
    let (mut class, mut before) = (0u8, 0u8);
    context::for_each_word(key, |w| {
        let c = classes(w);
        any |= c;
        before = class;
        class = c;
        before_last = last;
        last = w;
        words += 1;
    });
    let is = |w: &str| last.eq_ignore_ascii_case(w);
    if words == 0 {
        None
    } else if any & IDENTIFIER != 0 {
        Some(FieldKind::Identifier)
    } else if class & THING != 0 {
        Some(FieldKind::Thing)
    } else if class & PHONE != 0
        || is("number") && (before & PHONE != 0 || before_last.eq_ignore_ascii_case("contact"))
    {
        Some(FieldKind::Phone)
    } else if class & GROUP != 0 {
        Some(FieldKind::Group)
    } else if class & PLACE != 0 {
        // Only the last word counts: `country_code`, `state_id` name a code.
        Some(FieldKind::Place)
    } else if any & PERSON != 0 || is("name") && before & NAME_PREFIX != 0 {
        Some(FieldKind::Person)
    } else if class & MAYBE_PERSON != 0 && (words == 1 || !is("name")) {
        Some(FieldKind::MaybePerson)
    } else {
        None
    }
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
        let Some(kind) = self.kind_of(key) else {
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

    /// [`field_kind`] once per key and thread ([`KEY_KINDS`]): keys come
    /// back in every item of an array and in every call.
    pub(super) fn kind_of(&self, key: &str) -> Option<FieldKind> {
        const KINDS: [FieldKind; 7] = [
            FieldKind::Person,
            FieldKind::MaybePerson,
            FieldKind::Place,
            FieldKind::Group,
            FieldKind::Phone,
            FieldKind::Identifier,
            FieldKind::Thing,
        ];
        if let Some(code) = KEY_KINDS.get(key) {
            return code
                .checked_sub(1)
                .and_then(|i| KINDS.get(usize::try_from(i).ok()?).copied());
        }
        let kind = field_kind(key);
        let code = kind
            .and_then(|k| KINDS.iter().position(|&x| x == k))
            .map_or(0, |i| i as u64 + 1);
        KEY_KINDS.put(key, code);
        kind
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
        assert_eq!(k("contactNumber"), Some(FieldKind::Phone));
        assert_eq!(k("customer_number"), None);
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
