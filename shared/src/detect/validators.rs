//! Check-digit and range validators. Each takes the candidate's significant
//! characters (separators removed) and answers yes or no; none allocates more
//! than a few bytes and none can panic.
//!
//! The arithmetic checks (Luhn, Verhoeff, mod 11, …) are a few lines each and
//! are written here rather than pulled in as one crate per algorithm; IBAN,
//! base58check, bech32 and Keccak use their established crates.

/// Digits of an ASCII string; `None` if any byte is not a digit.
fn digits(
    s: &[u8],
) -> Option<impl DoubleEndedIterator<Item = u32> + ExactSizeIterator + Clone + '_> {
    if s.iter().all(u8::is_ascii_digit) {
        Some(s.iter().map(|b| u32::from(b - b'0')))
    } else {
        None
    }
}

fn all_same(s: &[u8]) -> bool {
    s.windows(2).all(|w| w[0] == w[1])
}

/// Luhn (mod 10) check over ASCII digits.
pub(crate) fn luhn(s: &[u8]) -> bool {
    let Some(ds) = digits(s) else { return false };
    let mut sum = 0;
    for (i, d) in ds.rev().enumerate() {
        sum += if i % 2 == 1 {
            let x = d * 2;
            if x > 9 { x - 9 } else { x }
        } else {
            d
        };
    }
    !s.is_empty() && sum % 10 == 0
}

/// Card brand prefix and length rules: Visa, Mastercard, Amex, Discover,
/// Diners, JCB (the 16-digit 35xx range, the older 3088–3349 ranges and the
/// 15-digit 1800 / 2131), Maestro (12–19 digits) and UnionPay.
pub(crate) fn card_brand_ok(s: &[u8]) -> bool {
    let n = s.len();
    let p = |k: usize| -> u32 {
        s.iter()
            .take(k)
            .fold(0u32, |a, b| a * 10 + u32::from(b.wrapping_sub(b'0')))
    };
    let maestro = |p4: u32| {
        matches!(
            p4,
            5018 | 5020 | 5038 | 5893 | 6304 | 6390 | 6759 | 6761..=6763
        ) || (5600..=5899).contains(&p4)
    };
    match s.first() {
        Some(b'1') => p(4) == 1800 && n == 15,
        Some(b'4') => matches!(n, 13 | 16 | 19),
        Some(b'5') => {
            let p2 = p(2);
            ((51..=55).contains(&p2) && n == 16) || (maestro(p(4)) && (12..=19).contains(&n))
        }
        Some(b'2') => (2221..=2720).contains(&p(4)) && n == 16 || p(4) == 2131 && n == 15,
        Some(b'3') => {
            let (p2, p4) = (p(2), p(4));
            (matches!(p2, 34 | 37) && n == 15)
                || ((300..=305).contains(&p(3)) || matches!(p2, 36 | 38 | 39))
                    && (14..=19).contains(&n)
                || matches!(
                    p4,
                    3088..=3094 | 3096..=3102 | 3112..=3120 | 3158..=3159 | 3337..=3349 | 3528..=3589
                ) && (16..=19).contains(&n)
        }
        Some(b'6') => {
            let (p2, p3, p4) = (p(2), p(3), p(4));
            (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || p2 == 62)
                && (16..=19).contains(&n)
                || maestro(p4) && (12..=19).contains(&n)
        }
        _ => false,
    }
}

/// Payment card: brand, length and Luhn; rejects one repeated digit.
pub(crate) fn credit_card(s: &[u8]) -> bool {
    (12..=19).contains(&s.len()) && !all_same(s) && card_brand_ok(s) && luhn(s)
}

/// US SSN ranges: area not 000, 666 or 9xx; group not 00; serial not 0000;
/// plus numbers published as examples that are never issued.
pub(crate) fn us_ssn(s: &[u8]) -> bool {
    if s.len() != 9 || digits(s).is_none() || all_same(s) {
        return false;
    }
    let area = &s[..3];
    if area == b"000" || area == b"666" || area[0] == b'9' {
        return false;
    }
    if &s[3..5] == b"00" || &s[5..] == b"0000" {
        return false;
    }
    !matches!(s, b"123456789" | b"078051120" | b"219099999" | b"457555462")
}

/// US ITIN: 9XX with group 50–65, 70–88, 90–92 or 94–99.
pub(crate) fn us_itin(s: &[u8]) -> bool {
    if s.len() != 9 || digits(s).is_none() || s[0] != b'9' {
        return false;
    }
    let g = u32::from(s[3] - b'0') * 10 + u32::from(s[4] - b'0');
    matches!(g, 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

/// ABA routing transit number: known Federal Reserve prefix and the 3-7-1 checksum.
pub(crate) fn aba_routing(s: &[u8]) -> bool {
    let Some(ds) = digits(s) else { return false };
    if s.len() != 9 || all_same(s) {
        return false;
    }
    let d: Vec<u32> = ds.collect();
    let prefix = d[0] * 10 + d[1];
    if !matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80) {
        return false;
    }
    let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
    sum.is_multiple_of(10)
}

/// UK NHS number: mod-11 check digit (10 digits).
pub(crate) fn uk_nhs(s: &[u8]) -> bool {
    let Some(ds) = digits(s) else { return false };
    if s.len() != 10 || all_same(s) {
        return false;
    }
    let d: Vec<u32> = ds.collect();
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(a, w)| a * w).sum();
    let check = 11 - sum % 11;
    let check = if check == 11 { 0 } else { check };
    check != 10 && check == d[9]
}

/// UK National Insurance number, letters and digits only (`AB123456C`, suffix optional).
pub(crate) fn uk_nino(s: &[u8]) -> bool {
    if !(s.len() == 9 || s.len() == 8) {
        return false;
    }
    let (a, b) = (s[0], s[1]);
    if !a.is_ascii_uppercase() || !b.is_ascii_uppercase() {
        return false;
    }
    if b"DFIQUV".contains(&a) || b"DFIQUVO".contains(&b) {
        return false;
    }
    if matches!(
        &s[..2],
        b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ"
    ) {
        return false;
    }
    if !s[2..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    s.len() == 8 || matches!(s[8], b'A'..=b'D')
}

const NIF_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish DNI/NIF (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter).
pub(crate) fn es_nif(s: &[u8]) -> bool {
    if s.len() != 9 {
        return false;
    }
    let (body, letter) = (&s[..8], s[8]);
    let lead = match body[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        b'0'..=b'9' => u32::from(body[0] - b'0'),
        _ => return false,
    };
    if !body[1..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = body[1..]
        .iter()
        .fold(lead, |a, b| a * 10 + u32::from(b - b'0'));
    NIF_LETTERS.get((n % 23) as usize) == Some(&letter)
}

/// Italian codice fiscale: shape (with omocodia substitutions) and check character.
pub(crate) fn it_fiscal_code(s: &[u8]) -> bool {
    if s.len() != 16 {
        return false;
    }
    const OMOCODE: &[u8] = b"LMNPQRSTUV";
    let digitish = |c: u8| c.is_ascii_digit() || OMOCODE.contains(&c);
    for (i, &c) in s.iter().enumerate() {
        let ok = match i {
            0..=5 | 11 | 15 => c.is_ascii_uppercase(),
            8 => b"ABCDEHLMPRST".contains(&c),
            _ => digitish(c),
        };
        if !ok {
            return false;
        }
    }
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let mut sum = 0;
    for (i, &c) in s[..15].iter().enumerate() {
        let v = if c.is_ascii_digit() {
            c - b'0'
        } else {
            c - b'A'
        } as usize;
        // Positions are 1-based in the specification: odd positions use the table.
        sum += if i % 2 == 0 { ODD[v] } else { v as u32 };
    }
    u32::from(s[15] - b'A') == sum % 26
}

/// Australian Tax File Number: weighted sum divisible by 11 (8 or 9 digits).
pub(crate) fn au_tfn(s: &[u8]) -> bool {
    let Some(ds) = digits(s) else { return false };
    if all_same(s) {
        return false;
    }
    let weights: &[u32] = match s.len() {
        9 => &[1, 4, 3, 7, 5, 8, 6, 9, 10],
        8 => &[10, 7, 8, 4, 6, 3, 5, 1],
        _ => return false,
    };
    let sum: u32 = ds.zip(weights).map(|(d, w)| d * w).sum();
    sum.is_multiple_of(11)
}

/// Indian PAN: `AAAPA9999A` with a valid holder-type letter.
pub(crate) fn in_pan(s: &[u8]) -> bool {
    s.len() == 10
        && s[..5].iter().all(u8::is_ascii_uppercase)
        && b"ABCFGHJLPT".contains(&s[3])
        && s[5..9].iter().all(u8::is_ascii_digit)
        && s[9].is_ascii_uppercase()
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Verhoeff checksum over ASCII digits (check digit last).
pub(crate) fn verhoeff(s: &[u8]) -> bool {
    if s.is_empty() || digits(s).is_none() {
        return false;
    }
    let mut c = 0u8;
    for (i, b) in s.iter().rev().enumerate() {
        let d = usize::from(b - b'0');
        let p = VERHOEFF_P[i % 8][d];
        c = VERHOEFF_D[usize::from(c)][usize::from(p)];
    }
    c == 0
}

/// Aadhaar: 12 digits, first 2–9, Verhoeff, not a palindrome.
pub(crate) fn in_aadhaar(s: &[u8]) -> bool {
    s.len() == 12 && matches!(s[0], b'2'..=b'9') && !s.iter().eq(s.iter().rev()) && verhoeff(s)
}

/// Singapore NRIC/FIN: prefix letter, 7 digits, check letter.
pub(crate) fn sg_nric(s: &[u8]) -> bool {
    if s.len() != 9 || !s[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    const W: [u32; 7] = [2, 7, 6, 5, 4, 3, 2];
    let mut sum: u32 = s[1..8]
        .iter()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let table: &[u8; 11] = match s[0] {
        b'S' => b"JZIHGFEDCBA",
        b'T' => {
            sum += 4;
            b"JZIHGFEDCBA"
        }
        b'F' => b"XWUTRQPNMLK",
        b'G' => {
            sum += 4;
            b"XWUTRQPNMLK"
        }
        b'M' => {
            sum += 3;
            b"XWUTRQPNJLK"
        }
        _ => return false,
    };
    table.get((sum % 11) as usize) == Some(&s[8])
}

/// DEA registration number: registrant letter, a letter (or 9), 7 digits with check.
pub(crate) fn dea(s: &[u8]) -> bool {
    if s.len() != 9 || !b"ABCDEFGHJKLMPRSTUX".contains(&s[0]) {
        return false;
    }
    if !(s[1].is_ascii_uppercase() || s[1] == b'9') || !s[2..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d: Vec<u32> = s[2..].iter().map(|b| u32::from(b - b'0')).collect();
    let sum = d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5]);
    sum % 10 == d[6] && !all_same(&s[2..])
}

/// IBAN in compact form (no spaces), upper case only; country length, BBAN
/// format and mod-97 are checked by `iban_validate` (crate `iban`).
pub(crate) fn iban(s: &str) -> bool {
    s.len() >= 15
        && s.len() <= 34
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && s.parse::<iban::Iban>().is_ok()
}

/// Bitcoin legacy address (P2PKH / P2SH, main or test net) with base58check.
pub(crate) fn bitcoin_base58(s: &str) -> bool {
    if !(26..=35).contains(&s.len()) || !matches!(s.as_bytes()[0], b'1' | b'3' | b'm' | b'n' | b'2')
    {
        return false;
    }
    match bs58::decode(s).with_check(None).into_vec() {
        Ok(v) => v.len() == 21 && matches!(v[0], 0x00 | 0x05 | 0x6f | 0xc4),
        Err(_) => false,
    }
}

/// Bitcoin segwit address (bech32 for v0, bech32m for v1+), checksum included.
pub(crate) fn bitcoin_bech32(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if !(lower.starts_with("bc1") || lower.starts_with("tb1")) {
        return false;
    }
    // Mixed case is invalid in bech32.
    if s != lower && s != s.to_ascii_uppercase() {
        return false;
    }
    bech32::segwit::decode(s).is_ok()
}

/// Ethereum address `0x` + 40 hex; mixed case must carry a valid EIP-55 checksum.
pub(crate) fn ethereum(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 42 || &b[..2] != b"0x" || !b[2..].iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    let hex = &s[2..];
    if all_same(hex.as_bytes()) {
        return false;
    }
    let has_lower = hex.bytes().any(|c| c.is_ascii_lowercase());
    let has_upper = hex.bytes().any(|c| c.is_ascii_uppercase());
    if !(has_lower && has_upper) {
        return true;
    }
    use sha3::Digest;
    let hash = sha3::Keccak256::digest(hex.to_ascii_lowercase().as_bytes());
    hex.bytes().enumerate().all(|(i, c)| {
        if !c.is_ascii_alphabetic() {
            return true;
        }
        let byte = hash[i / 2];
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
        (nibble >= 8) == c.is_ascii_uppercase()
    })
}

/// Shannon entropy in bits per byte.
pub(crate) fn entropy(s: &[u8]) -> f32 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_cards() {
        for good in [
            "4111111111111111",
            "5500005555555559",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
            "2223000048400011",
            // JCB 15-digit (2131, 1800) and the older 16-digit ranges.
            "213100128632396",
            "180001279872386",
            "3088589990676349",
            "3337650722514924",
            // Maestro, 12 to 19 digits.
            "560013962983",
            "630405652771",
            "5800513025863073941",
            "6390407085377853",
            // Diners 14, UnionPay 16 and 19.
            "36335371553262",
            "6200005199896923",
            "6221036463109868145",
        ] {
            assert!(credit_card(good.as_bytes()), "{good}");
        }
        for bad in [
            "4111111111111112",
            "1234567812345678",
            "0000000000000000",
            "9111111111111111",
            "41111111111111",
        ] {
            assert!(!credit_card(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn ssn_itin_aba() {
        assert!(us_ssn(b"536228745"));
        for bad in [
            &b"000123456"[..],
            b"666123456",
            b"912345678",
            b"123004567",
            b"123450000",
            b"111111111",
            b"078051120",
        ] {
            assert!(!us_ssn(bad), "{}", String::from_utf8_lossy(bad));
        }
        assert!(us_itin(b"912701234"));
        assert!(us_itin(b"999941234"));
        assert!(!us_itin(b"912931234"));
        assert!(!us_itin(b"812701234"));
        assert!(aba_routing(b"021000021"));
        assert!(aba_routing(b"011401533"));
        assert!(!aba_routing(b"021000022"));
        assert!(!aba_routing(b"991000021"));
    }

    #[test]
    fn uk() {
        assert!(uk_nhs(b"9434765919"));
        assert!(!uk_nhs(b"9434765918"));
        assert!(!uk_nhs(b"0000000000"));
        assert!(uk_nino(b"AB123456C"));
        assert!(uk_nino(b"AB123456"));
        assert!(!uk_nino(b"QQ123456C"));
        assert!(!uk_nino(b"GB123456A"));
        assert!(!uk_nino(b"AB123456E"));
        assert!(!uk_nino(b"AO123456A"));
    }

    #[test]
    fn eu() {
        assert!(es_nif(b"12345678Z"));
        assert!(!es_nif(b"12345678A"));
        assert!(es_nif(b"X1234567L"));
        assert!(!es_nif(b"X1234567A"));
        assert!(it_fiscal_code(b"RSSMRA85T10A562S"));
        assert!(!it_fiscal_code(b"RSSMRA85T10A562T"));
        assert!(!it_fiscal_code(b"RSSMRA85Z10A562S"));
    }

    #[test]
    fn au_in_sg() {
        assert!(au_tfn(b"123456782"));
        assert!(!au_tfn(b"123456789"));
        assert!(in_pan(b"ABCPE1234F"));
        assert!(!in_pan(b"ABCXE1234F"));
        assert!(verhoeff(b"2363"));
        assert!(!verhoeff(b"2364"));
        assert!(in_aadhaar(b"234123412346"));
        assert!(!in_aadhaar(b"234123412347"));
        assert!(!in_aadhaar(b"123412341234"));
        assert!(sg_nric(b"S1234567D"));
        assert!(!sg_nric(b"S1234567E"));
        assert!(sg_nric(b"T1234567J"));
        assert!(sg_nric(b"F1234567N"));
        assert!(sg_nric(b"G1234567X"));
    }

    #[test]
    fn dea_and_iban() {
        assert!(dea(b"AB1234563"));
        assert!(!dea(b"AB1234564"));
        assert!(!dea(b"IB1234563"));
        assert!(iban("DE89370400440532013000"));
        assert!(iban("GB82WEST12345698765432"));
        assert!(!iban("GB82WEST12345698765433"));
        assert!(!iban("DE8937040044053201300"));
        assert!(!iban("de89370400440532013000"));
    }

    #[test]
    fn crypto() {
        assert!(bitcoin_base58("1BoatSLRHtKNngkdXEeobR76b53LETtpyT"));
        assert!(bitcoin_base58("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(!bitcoin_base58("1BoatSLRHtKNngkdXEeobR76b53LETtpyX"));
        assert!(bitcoin_bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(bitcoin_bech32(
            "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
        ));
        assert!(!bitcoin_bech32(
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx"
        ));
        assert!(ethereum("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"));
        assert!(!ethereum("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"));
        assert!(ethereum("0x52908400098527886e0f7030069857d2e4169ee7"));
        assert!(!ethereum("0x0000000000000000000000000000000000000000"));
    }

    #[test]
    fn entropy_orders_randomness() {
        assert!(entropy(b"aaaaaaaa") < 0.1);
        assert!(entropy(b"hunter2hunter2") < entropy(b"q8Zr2LmX0pVt7sKd"));
    }
}
