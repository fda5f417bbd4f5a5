//! The catalogue of built-in detectors: [`Entity`], its dashboard [`EntityGroup`]
//! and the [`Region`] toggles that switch regional detectors on.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A region whose national identifiers can be switched on as a group.
///
/// Serialised as its upper-case code (`"US"`, `"UK"`, …).
///
/// ```
/// use shared::detect::Region;
/// assert_eq!("UK".parse::<Region>().unwrap(), Region::Uk);
/// assert_eq!(serde_json::to_string(&Region::In).unwrap(), "\"IN\"");
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Region {
    /// United States (SSN, ITIN, passport, driver licence, bank numbers).
    Us,
    /// United Kingdom (NHS number, National Insurance number).
    Uk,
    /// European Union member states (Spanish NIF/NIE, Italian fiscal code).
    Eu,
    /// Australia (Tax File Number).
    Au,
    /// India (PAN, Aadhaar).
    In,
    /// Singapore (NRIC / FIN).
    Sg,
}

impl Region {
    /// Every region, in display order.
    pub const ALL: &'static [Region] = &[
        Region::Us,
        Region::Uk,
        Region::Eu,
        Region::Au,
        Region::In,
        Region::Sg,
    ];

    /// The upper-case code used in rule files and on the wire.
    ///
    /// ```
    /// assert_eq!(shared::detect::Region::Sg.as_str(), "SG");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Region::Us => "US",
            Region::Uk => "UK",
            Region::Eu => "EU",
            Region::Au => "AU",
            Region::In => "IN",
            Region::Sg => "SG",
        }
    }

    pub(crate) const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Region::ALL
            .iter()
            .copied()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// How the dashboard groups entity rows.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityGroup {
    /// Names, places, nationality and personal contact details.
    Identity,
    /// National and financial identifiers (SSN, passport, bank, IBAN).
    GovernmentFinancial,
    /// Payment instruments (cards, crypto wallets).
    Payment,
    /// Health identifiers.
    Health,
    /// Network identifiers (IP addresses, URLs).
    Network,
    /// Dates and anything else.
    Other,
    /// Credentials and keys.
    Secrets,
    /// Identifiers switched on per region outside the US.
    Regional,
    /// Instructions aimed at the model (prompt injection), by sub-kind.
    PromptInjection,
}

impl EntityGroup {
    /// A short, human label for the group heading.
    ///
    /// ```
    /// assert_eq!(shared::detect::EntityGroup::Secrets.title(), "Secrets");
    /// ```
    pub const fn title(self) -> &'static str {
        match self {
            EntityGroup::Identity => "Identity",
            EntityGroup::GovernmentFinancial => "Government & financial IDs",
            EntityGroup::Payment => "Payment",
            EntityGroup::Health => "Health",
            EntityGroup::Network => "Network",
            EntityGroup::Other => "Other",
            EntityGroup::Secrets => "Secrets",
            EntityGroup::Regional => "Regional",
            EntityGroup::PromptInjection => "Prompt injection",
        }
    }
}

/// Error for an entity or region name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name {0:?}")]
pub struct UnknownName(pub String);

macro_rules! entities {
    ($( $(#[$doc:meta])* $var:ident = $name:literal, $group:ident, $region:expr, $desc:literal; )*) => {
        /// A built-in detector. Names match Microsoft Presidio's where Presidio has
        /// the entity, so results can be compared; secrets have their own names.
        ///
        /// ```
        /// use shared::detect::{Entity, EntityGroup};
        /// let e: Entity = "EMAIL_ADDRESS".parse().unwrap();
        /// assert_eq!(e, Entity::EmailAddress);
        /// assert_eq!(e.group(), EntityGroup::Identity);
        /// assert_eq!(serde_json::to_string(&Entity::UkNhs).unwrap(), "\"UK_NHS\"");
        /// assert!(Entity::ALL.contains(&Entity::GithubToken));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Entity {
            $( $(#[$doc])* $var, )*
        }

        impl Entity {
            /// Every built-in entity, in catalogue order.
            pub const ALL: &'static [Entity] = &[ $( Entity::$var, )* ];

            /// The Presidio-style name (`"EMAIL_ADDRESS"`).
            pub const fn as_str(self) -> &'static str {
                match self { $( Entity::$var => $name, )* }
            }

            /// The dashboard group this entity is listed under.
            pub const fn group(self) -> EntityGroup {
                match self { $( Entity::$var => EntityGroup::$group, )* }
            }

            /// The region toggle that enables it, `None` for global detectors.
            pub const fn region(self) -> Option<Region> {
                match self { $( Entity::$var => $region, )* }
            }

            /// One line for the UI.
            pub const fn description(self) -> &'static str {
                match self { $( Entity::$var => $desc, )* }
            }
        }
    };
}

entities! {
    /// A person's name.
    Person = "PERSON", Identity, None, "A person's full name, or a first name near words like \"name\" or \"dear\".";
    /// A named place.
    Location = "LOCATION", Identity, None, "Countries, states and provinces, and cities of 15,000+ people.";
    /// Nationality, religious or political group.
    Nrp = "NRP", Identity, None, "Nationality, religious or political group.";
    /// E-mail address.
    EmailAddress = "EMAIL_ADDRESS", Identity, None, "E-mail address with a real top-level domain.";
    /// Phone number.
    PhoneNumber = "PHONE_NUMBER", Identity, None, "Phone number valid for its country (international or enabled regions).";
    /// IPv4 / IPv6 address.
    IpAddress = "IP_ADDRESS", Network, None, "IPv4 or IPv6 address (not version strings).";
    /// URL or bare domain.
    Url = "URL", Network, None, "URL with a scheme, or a bare domain with a known top-level domain.";
    /// Date or timestamp.
    DateTime = "DATE_TIME", Other, None, "A calendar date (ISO 8601, numeric US/EU, month names); timestamps score low unless personal context is near.";
    /// Payment card number.
    CreditCard = "CREDIT_CARD", Payment, None, "Payment card number with a valid brand prefix, length and Luhn check digit.";
    /// International bank account number.
    IbanCode = "IBAN_CODE", GovernmentFinancial, None, "IBAN with the country's length and a valid mod-97 checksum.";
    /// Cryptocurrency wallet address.
    Crypto = "CRYPTO", Payment, None, "Bitcoin (base58check, bech32/bech32m) or Ethereum (EIP-55 when mixed case) address.";
    /// DEA registration number.
    MedicalLicense = "MEDICAL_LICENSE", Health, None, "US DEA registration number with a valid check digit.";
    /// US Social Security number.
    UsSsn = "US_SSN", GovernmentFinancial, Some(Region::Us), "US Social Security number (valid area, group and serial).";
    /// US Individual Taxpayer Identification Number.
    UsItin = "US_ITIN", GovernmentFinancial, Some(Region::Us), "US Individual Taxpayer Identification Number (9XX-7X-XXXX ranges).";
    /// US passport number.
    UsPassport = "US_PASSPORT", GovernmentFinancial, Some(Region::Us), "US passport number; weak format, needs context such as \"passport\".";
    /// US driver's licence number.
    UsDriverLicense = "US_DRIVER_LICENSE", GovernmentFinancial, Some(Region::Us), "US driver's licence number; weak format, needs context such as \"driver's license\".";
    /// US bank account or ABA routing number.
    UsBankNumber = "US_BANK_NUMBER", GovernmentFinancial, Some(Region::Us), "US bank account or ABA routing number; weak format, needs context such as \"account\".";
    /// UK NHS number.
    UkNhs = "UK_NHS", Regional, Some(Region::Uk), "UK NHS number with a valid mod-11 check digit.";
    /// UK National Insurance number.
    UkNino = "UK_NINO", Regional, Some(Region::Uk), "UK National Insurance number (valid prefix and suffix letters).";
    /// Spanish NIF / NIE.
    EsNif = "ES_NIF", Regional, Some(Region::Eu), "Spanish NIF/DNI or NIE with a valid check letter.";
    /// Italian fiscal code.
    ItFiscalCode = "IT_FISCAL_CODE", Regional, Some(Region::Eu), "Italian codice fiscale with a valid check character.";
    /// Australian Tax File Number.
    AuTfn = "AU_TFN", Regional, Some(Region::Au), "Australian Tax File Number with a valid weighted checksum.";
    /// Indian Permanent Account Number.
    InPan = "IN_PAN", Regional, Some(Region::In), "Indian Permanent Account Number (PAN).";
    /// Indian Aadhaar number.
    InAadhaar = "IN_AADHAAR", Regional, Some(Region::In), "Indian Aadhaar number with a valid Verhoeff check digit.";
    /// Singapore NRIC / FIN.
    SgNricFin = "SG_NRIC_FIN", Regional, Some(Region::Sg), "Singapore NRIC or FIN with a valid check letter.";
    /// AWS access key id.
    AwsAccessKey = "AWS_ACCESS_KEY", Secrets, None, "AWS access key id (AKIA…/ASIA…).";
    /// Google API key.
    GoogleApiKey = "GOOGLE_API_KEY", Secrets, None, "Google Cloud / Maps API key (AIza…) or OAuth access token (ya29.…).";
    /// GitHub token.
    GithubToken = "GITHUB_TOKEN", Secrets, None, "GitHub personal, OAuth, app or fine-grained token.";
    /// Slack token.
    SlackToken = "SLACK_TOKEN", Secrets, None, "Slack bot, user, app or legacy token (xox…).";
    /// Stripe secret or restricted key.
    StripeKey = "STRIPE_KEY", Secrets, None, "Stripe secret or restricted API key (sk_/rk_).";
    /// PEM private key block.
    PrivateKey = "PRIVATE_KEY", Secrets, None, "PEM private key block (RSA, EC, OpenSSH, PKCS#8).";
    /// JSON Web Token.
    Jwt = "JWT", Secrets, None, "JSON Web Token (header.payload.signature).";
    /// Database URL with an embedded password.
    DatabaseUrl = "DATABASE_URL", Secrets, None, "Database connection URL with an embedded password.";
    /// High-entropy value assigned to a secret-like name.
    GenericSecret = "GENERIC_SECRET", Secrets, None, "High-entropy value assigned to a name like password, secret, token or api_key.";
    /// Instructions that try to replace the model's own, or hide from the user.
    InjectionOverride = "PROMPT_INJECTION_OVERRIDE", PromptInjection, None, "Instructions that try to override the model's (\"ignore previous instructions\", \"you are now…\") or to keep something from the user.";
    /// Text hidden from people with invisible Unicode.
    InjectionHiddenText = "PROMPT_INJECTION_HIDDEN_TEXT", PromptInjection, None, "Text hidden with zero-width, bidirectional-control or Unicode tag characters.";
    /// Markup that imitates a system prompt or chat template.
    InjectionSystemMarkup = "PROMPT_INJECTION_SYSTEM_MARKUP", PromptInjection, None, "Markup imitating system prompts or chat templates (<system>, <|im_start|>, [INST], <IMPORTANT> blocks).";
    /// A request to read or hand over credentials or secret files.
    InjectionCredentialRequest = "PROMPT_INJECTION_CREDENTIAL_REQUEST", PromptInjection, None, "Asks the model to read or pass on credentials or secret files (~/.ssh, .env, mcp.json, API keys).";
    /// A request to call other tools or change how they behave.
    InjectionToolCall = "PROMPT_INJECTION_TOOL_CALL", PromptInjection, None, "Asks the model to call other tools, or changes how other tools behave (\"always BCC…\").";
    /// A URL built to carry data out.
    InjectionExfiltration = "PROMPT_INJECTION_EXFILTRATION", PromptInjection, None, "Links or images whose URL carries data or placeholders for it, or instructions to send data to a URL.";
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Entity {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Entity::ALL
            .iter()
            .copied()
            .find(|e| e.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

impl Serialize for Entity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Entity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Entity {
    /// Position in [`Entity::ALL`], used to index per-entity tables.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// Secrets have no Presidio equivalent.
    ///
    /// ```
    /// assert!(shared::detect::Entity::Jwt.is_secret());
    /// assert!(!shared::detect::Entity::UsSsn.is_secret());
    /// ```
    pub const fn is_secret(self) -> bool {
        matches!(self.group(), EntityGroup::Secrets)
    }

    /// Prompt-injection sub-kinds are about instructions, not values: they
    /// never hide a value found inside them (see the scanner's overlaps).
    ///
    /// ```
    /// use shared::detect::Entity;
    /// assert!(Entity::InjectionHiddenText.is_injection());
    /// assert!(!Entity::Url.is_injection());
    /// ```
    pub const fn is_injection(self) -> bool {
        matches!(self.group(), EntityGroup::PromptInjection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (i, e) in Entity::ALL.iter().enumerate() {
            assert_eq!(e.index(), i);
            assert!(seen.insert(e.as_str()), "duplicate {e}");
            assert_eq!(e.as_str().parse::<Entity>().unwrap(), *e);
            let json = serde_json::to_string(e).unwrap();
            assert_eq!(serde_json::from_str::<Entity>(&json).unwrap(), *e);
            assert!(!e.description().is_empty());
        }
        assert!("NOT_AN_ENTITY".parse::<Entity>().is_err());
    }

    #[test]
    fn regional_entities_have_regions() {
        for e in Entity::ALL {
            if e.group() == EntityGroup::Regional {
                assert!(e.region().is_some(), "{e}");
            }
        }
        assert_eq!(Entity::UsSsn.region(), Some(Region::Us));
        assert_eq!(Entity::IbanCode.region(), None);
        for r in Region::ALL {
            assert_eq!(r.as_str().parse::<Region>().unwrap(), *r);
        }
    }
}
