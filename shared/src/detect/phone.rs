//! Phone-number validity: libphonenumber's rule over `phonenumber`'s
//! metadata, with each region's patterns compiled once.
//!
//! Why not call `phonenumber::is_valid`: the crate keeps every compiled
//! metadata pattern in one mutex-guarded LRU keyed by the pattern's text and
//! hashes that text (often kilobytes) with SipHash on every use. Profiled on a
//! short text with one phone number, SipHash alone was 36 % of all cycles and
//! the matching itself 11 % (BENCHMARKS.md). Parsing stays the crate's; this
//! module only answers "is this parsed number valid" the way the crate does
//! (`number_type` is not `Unknown` for the region `source_for` picks), and
//! `tests::agrees_with_phonenumber` holds it to the crate's answer on
//! thousands of numbers of many regions. Anything it cannot compile falls
//! back to the crate.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use phonenumber::PhoneNumber;
use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::Regex;

/// One number type's pattern and lengths.
struct Desc {
    lengths: Vec<u16>,
    re: Regex,
}

impl Desc {
    fn new(d: &Descriptor) -> Option<Desc> {
        Some(Desc {
            lengths: d.possible_length().to_vec(),
            re: anchored(d.national_number().as_str())?,
        })
    }

    /// The crate's `Descriptor::is_match`: a possible length, and the
    /// pattern matching from the first digit.
    fn is_match(&self, national: &str) -> bool {
        let len = u16::try_from(national.len()).unwrap_or(u16::MAX);
        (self.lengths.is_empty() || self.lengths.contains(&len)) && self.re.is_match(national)
    }
}

/// The metadata patterns are written with insignificant whitespace (the
/// crate compiles them with `ignore_whitespace`) and match from the start.
fn anchored(pattern: &str) -> Option<Regex> {
    Regex::new(&format!("^(?x:{pattern})")).ok()
}

struct Region {
    general: Desc,
    /// Premium rate, toll free, shared cost, VoIP, personal, pager, UAN,
    /// voicemail, fixed line, mobile: the types `number_type` tries.
    types: Vec<Desc>,
    leading_digits: Option<Regex>,
}

impl Region {
    fn new(m: &Metadata) -> Option<Region> {
        let d = m.descriptors();
        let types = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .map(Desc::new)
        .collect::<Option<Vec<_>>>()?;
        let leading_digits = match m.leading_digits() {
            Some(l) => Some(anchored(l.as_str())?),
            None => None,
        };
        Some(Region {
            general: Desc::new(d.general())?,
            types,
            leading_digits,
        })
    }

    /// `number_type(meta, national) != Type::Unknown`.
    fn valid(&self, national: &str) -> bool {
        self.general.is_match(national) && self.types.iter().any(|t| t.is_match(national))
    }
}

/// The compiled patterns of region `id` ("GB"), built on first use; `None`
/// when the region is unknown or a pattern does not compile here.
fn region(id: &str) -> Option<Arc<Region>> {
    type Cache = RwLock<HashMap<String, Option<Arc<Region>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    if let Ok(r) = cache.read()
        && let Some(hit) = r.get(id)
    {
        return hit.clone();
    }
    let built = DATABASE.by_id(id).and_then(Region::new).map(Arc::new);
    if let Ok(mut w) = cache.write() {
        w.insert(id.to_owned(), built.clone());
    }
    built
}

/// Whether a parsed number is valid, as `phonenumber::is_valid` answers.
pub(crate) fn is_valid(p: &PhoneNumber) -> bool {
    let code = p.code().value();
    let national = p.national().to_string();
    let Some(regions) = DATABASE.region(&code) else {
        return false;
    };
    // Non-geographic numbering plans ("001") share one id; leave them to the crate.
    if regions.contains(&"001") {
        return phonenumber::is_valid(p);
    }
    let chosen = if let [only] = regions.as_slice() {
        region(only)
    } else {
        let mut chosen = None;
        for id in &regions {
            let Some(r) = region(id) else {
                return phonenumber::is_valid(p);
            };
            let picked = match &r.leading_digits {
                Some(l) => l.is_match(&national),
                None => r.valid(&national),
            };
            if picked {
                chosen = Some(r);
                break;
            }
        }
        chosen
    };
    match chosen {
        Some(r) => r.valid(&national),
        None if regions.len() == 1 => phonenumber::is_valid(p),
        None => false,
    }
}

/// The region to hand `phonenumber::parse` with an international number.
/// Without one, the parser finds the region itself, testing the patterns of
/// every region that shares the calling code — 25 for +1, through the slow
/// cache. The NANP regions share one national prefix rule, so `US` parses any
/// +1 number the same way; other codes keep the parser's own choice.
pub(crate) fn parse_hint(text: &str) -> Option<phonenumber::country::Id> {
    // "+1", then an area code, which never starts with 0 or 1 (a national
    // part starting with 1 would lose it to the US national prefix).
    let nanp = text
        .strip_prefix("+1")
        .map(|rest| rest.trim_start_matches([' ', '(', '-', '.']))
        .is_some_and(|area| area.starts_with(|c: char| ('2'..='9').contains(&c)));
    nanp.then_some(phonenumber::country::Id::US)
}

#[cfg(test)]
mod tests {
    use phonenumber::country::Id;

    /// Same answer as `phonenumber::is_valid` on every number tried: each
    /// region's example numbers, and variants of them with digits changed,
    /// added and dropped, parsed nationally and in international form.
    #[test]
    fn agrees_with_phonenumber() {
        let regions = [
            Id::US,
            Id::CA,
            Id::GB,
            Id::DE,
            Id::FR,
            Id::ES,
            Id::IT,
            Id::NL,
            Id::AU,
            Id::IN,
            Id::SG,
            Id::BR,
            Id::JP,
            Id::CN,
            Id::RU,
            Id::MX,
            Id::ZA,
            Id::NG,
            Id::FI,
            Id::DK,
            Id::GR,
            Id::PL,
            Id::IE,
            Id::NZ,
            Id::GG,
            Id::JE,
            Id::IM,
            Id::PR,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut checked = 0;
        let mut valid = 0;
        for id in regions {
            let meta = phonenumber::metadata::DATABASE
                .by_id(id.as_ref())
                .expect("region in metadata");
            let d = meta.descriptors();
            let examples: Vec<String> = [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.voip(),
            ]
            .into_iter()
            .flatten()
            .filter_map(|x| x.example().map(str::to_owned))
            .collect();
            for ex in &examples {
                for round in 0..120 {
                    let mut digits: Vec<u8> = ex.bytes().collect();
                    let r = next();
                    match round % 4 {
                        0 => {}
                        1 => {
                            let i = (r as usize) % digits.len();
                            digits[i] = b'0' + (r >> 8) as u8 % 10;
                        }
                        2 => digits.push(b'0' + (r >> 8) as u8 % 10),
                        _ => {
                            digits.pop();
                        }
                    }
                    let national = String::from_utf8(digits).expect("ascii");
                    let texts = [
                        format!("0{national}"),
                        national.clone(),
                        format!("+{} {national}", meta.country_code()),
                    ];
                    for (k, text) in texts.iter().enumerate() {
                        let parsed = if k == 2 {
                            let hinted = phonenumber::parse(super::parse_hint(text), text);
                            let plain = phonenumber::parse(None, text);
                            assert_eq!(
                                hinted
                                    .as_ref()
                                    .ok()
                                    .map(|p| (p.code().value(), p.national().to_string())),
                                plain
                                    .as_ref()
                                    .ok()
                                    .map(|p| (p.code().value(), p.national().to_string())),
                                "hint changes the parse of {text}"
                            );
                            hinted
                        } else {
                            phonenumber::parse(Some(id), text)
                        };
                        let Ok(p) = parsed else { continue };
                        let theirs = phonenumber::is_valid(&p);
                        assert_eq!(super::is_valid(&p), theirs, "{id:?} {text}");
                        checked += 1;
                        valid += usize::from(theirs);
                    }
                }
            }
        }
        assert!(
            checked > 10_000 && valid > 1_000,
            "{checked} checked, {valid} valid"
        );
    }
}
