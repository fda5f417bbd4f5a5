//! Accounts, organizations and roles: the domain types the dashboard and the
//! server parse user input into, and the DTOs that describe them on the wire.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A member's role inside one organization, from most to least powerful.
///
/// Each role can do everything the roles below it can.
///
/// ```
/// use shared::account::Role;
/// assert!(Role::Owner.allows(Role::Admin));
/// assert!(!Role::Viewer.allows(Role::Approver));
/// assert_eq!("approver".parse::<Role>().unwrap(), Role::Approver);
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including managing owners.
    Owner,
    /// Configures the workspace and manages members (except owners).
    Admin,
    /// Reads everything and decides held high-risk calls.
    Approver,
    /// Reads everything, changes nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Approver, Role::Viewer];

    fn rank(self) -> u8 {
        match self {
            Role::Owner => 4,
            Role::Admin => 3,
            Role::Approver => 2,
            Role::Viewer => 1,
        }
    }

    /// Whether a member with this role may do what `required` may do.
    pub fn allows(self, required: Role) -> bool {
        self.rank() >= required.rank()
    }

    /// Whether a member with this role may add, change or remove a member
    /// who has (or would get) role `other`: admins manage everyone but
    /// owners; only owners manage owners.
    ///
    /// ```
    /// use shared::account::Role;
    /// assert!(Role::Admin.can_manage(Role::Viewer));
    /// assert!(!Role::Admin.can_manage(Role::Owner));
    /// assert!(Role::Owner.can_manage(Role::Owner));
    /// assert!(!Role::Approver.can_manage(Role::Viewer));
    /// ```
    pub fn can_manage(self, other: Role) -> bool {
        self.allows(Role::Admin) && (self == Role::Owner || other != Role::Owner)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Approver => "approver",
            Role::Viewer => "viewer",
        }
    }

    /// A one-line explanation for the members page.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Owner => "Full control, including owners and the organization itself",
            Role::Admin => "Configures the workspace and manages members",
            Role::Approver => "Reads everything and approves or denies held calls",
            Role::Viewer => "Read-only access",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role text was not one of the four roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Choose one of: owner, admin, approver, viewer.")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "approver" => Ok(Role::Approver),
            "viewer" => Ok(Role::Viewer),
            _ => Err(UnknownRole),
        }
    }
}

/// A normalised (trimmed, lower-cased) email address.
///
/// Syntax is checked with the `email_address` crate, and on top of it we
/// require what a deliverable address needs: a dotted domain of plain
/// letters, digits and hyphens (no quoted local parts, no IP literals).
///
/// ```
/// use shared::account::Email;
/// let e: Email = " Ada@Example.COM ".parse().unwrap();
/// assert_eq!(e.as_str(), "ada@example.com");
/// assert!("ada@localhost".parse::<Email>().is_err());
/// assert!("not an email".parse::<Email>().is_err());
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why an email address was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Enter an email address like name@example.com.")]
pub struct InvalidEmail;

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = InvalidEmail;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_lowercase();
        if s.is_empty() || s.len() > 254 {
            return Err(InvalidEmail);
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            &s,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        )
        .map_err(|_| InvalidEmail)?;
        let local = parsed.local_part();
        let domain = parsed.domain();
        let local_ok = !local.starts_with('"');
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        if local_ok && domain_ok {
            Ok(Email(s))
        } else {
            Err(InvalidEmail)
        }
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidEmail;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The password rule, stated once so every form shows the same words.
pub const PASSWORD_RULE: &str =
    "Use at least 12 characters (a few unrelated words make a strong, memorable password).";

/// The minimum and maximum password length, in characters.
pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// A password that meets [`PASSWORD_RULE`]. Never printed: `Debug` is
/// redacted and there is no `Display` or `Serialize`.
///
/// ```
/// use shared::account::NewPassword;
/// assert!(NewPassword::parse("correct horse battery", "ada@example.com").is_ok());
/// assert!(NewPassword::parse("short", "ada@example.com").is_err());
/// let p = NewPassword::parse("correct horse battery", "ada@example.com").unwrap();
/// assert_eq!(format!("{p:?}"), "NewPassword(<redacted>)");
/// ```
#[derive(Clone)]
pub struct NewPassword(String);

/// Why a new password was rejected; the message states the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("Too short. {PASSWORD_RULE}")]
    TooShort,
    #[error("Too long: use at most {PASSWORD_MAX_CHARS} characters.")]
    TooLong,
    #[error("Too easy to guess: don't repeat one character or use your email address.")]
    Guessable,
}

impl NewPassword {
    /// Checks `password` against the rule; `email` is the account's address,
    /// which must not double as its password.
    pub fn parse(password: &str, email: &str) -> Result<Self, WeakPassword> {
        let n = password.chars().count();
        if n < PASSWORD_MIN_CHARS {
            return Err(WeakPassword::TooShort);
        }
        if n > PASSWORD_MAX_CHARS {
            return Err(WeakPassword::TooLong);
        }
        let mut chars = password.chars();
        let first = chars.next();
        let all_same = chars.all(|c| Some(c) == first);
        let trimmed = password.trim().to_lowercase();
        let email = email.trim().to_lowercase();
        let local = email.split('@').next().unwrap_or_default();
        if all_same || trimmed == email || (!local.is_empty() && trimmed == local) {
            return Err(WeakPassword::Guessable);
        }
        Ok(NewPassword(password.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// An organization's display name: trimmed, 1–80 characters, no control
/// characters.
///
/// ```
/// use shared::account::OrgName;
/// assert_eq!(OrgName::parse("  Acme Corp ").unwrap().as_str(), "Acme Corp");
/// assert!(OrgName::parse("   ").is_err());
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgName(String);

/// Why an organization name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOrgName {
    #[error("Enter a name for the organization.")]
    Empty,
    #[error("Use at most 80 characters.")]
    TooLong,
    #[error("Use printable characters only.")]
    Control,
}

impl OrgName {
    pub fn parse(s: &str) -> Result<Self, InvalidOrgName> {
        let s = s.trim();
        if s.is_empty() {
            return Err(InvalidOrgName::Empty);
        }
        if s.chars().count() > 80 {
            return Err(InvalidOrgName::TooLong);
        }
        if s.chars().any(char::is_control) {
            return Err(InvalidOrgName::Control);
        }
        Ok(OrgName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether an organization only records decisions or also acts on them.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OrgMode {
    /// Decide and record everything, change nothing.
    #[default]
    Monitor,
    /// Block, redact and hold calls as the rules say.
    Enforce,
}

impl OrgMode {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgMode::Monitor => "monitor",
            OrgMode::Enforce => "enforce",
        }
    }
}

impl FromStr for OrgMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "monitor" => Ok(OrgMode::Monitor),
            "enforce" => Ok(OrgMode::Enforce),
            _ => Err("Choose monitor or enforce.".to_owned()),
        }
    }
}

/// What the gateway does now, whatever the configured mode says.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectiveMode {
    Monitor,
    Enforce,
    /// Configured to enforce, but the enforce quota is used up: calls are
    /// decided as in monitor mode (or all blocked, if the org chose so).
    EnforcePaused,
}

impl EffectiveMode {
    /// The effective state of an org configured as `configured` whose
    /// enforce quota is (or is not) used up.
    ///
    /// ```
    /// use shared::account::{EffectiveMode, OrgMode};
    /// assert_eq!(EffectiveMode::of(OrgMode::Enforce, true), EffectiveMode::EnforcePaused);
    /// assert_eq!(EffectiveMode::of(OrgMode::Enforce, false), EffectiveMode::Enforce);
    /// assert_eq!(EffectiveMode::of(OrgMode::Monitor, true), EffectiveMode::Monitor);
    /// ```
    pub fn of(configured: OrgMode, quota_used_up: bool) -> Self {
        match (configured, quota_used_up) {
            (OrgMode::Monitor, _) => EffectiveMode::Monitor,
            (OrgMode::Enforce, true) => EffectiveMode::EnforcePaused,
            (OrgMode::Enforce, false) => EffectiveMode::Enforce,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EffectiveMode::Monitor => "monitor",
            EffectiveMode::Enforce => "enforce",
            EffectiveMode::EnforcePaused => "enforce_paused",
        }
    }

    /// How the dashboard names it.
    pub fn label(self) -> &'static str {
        match self {
            EffectiveMode::Monitor => "Monitor",
            EffectiveMode::Enforce => "Enforce",
            EffectiveMode::EnforcePaused => "Enforce Paused",
        }
    }
}

/// The monitor / enforce switch as a form or API body carries it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModeInput {
    /// `monitor` or `enforce`.
    pub mode: String,
}

impl ModeInput {
    /// ```
    /// use shared::account::{ModeInput, OrgMode};
    /// assert_eq!(ModeInput { mode: "enforce".into() }.parse().unwrap(), OrgMode::Enforce);
    /// assert!(ModeInput { mode: "off".into() }.parse().unwrap_err().field("mode").is_some());
    /// ```
    pub fn parse(&self) -> Result<OrgMode, crate::error::ApiError> {
        self.mode
            .parse()
            .map_err(|e: String| crate::error::ApiError::invalid("mode", e))
    }
}

/// One organization the signed-in user belongs to.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgMembership {
    pub org_id: Uuid,
    pub org_name: String,
    pub role: Role,
}

/// Who is signed in, and in which organization they are working.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: Uuid,
    pub email: String,
    /// The organization the dashboard currently shows (None when the user
    /// belongs to none, e.g. after being removed from their only org).
    pub current: Option<OrgMembership>,
    /// Every organization the user belongs to, for the switcher.
    pub orgs: Vec<OrgMembership>,
    /// What the current organization's gateway does now (monitor,
    /// enforce, or enforce paused), for the navigation.
    #[serde(default)]
    pub effective_mode: Option<EffectiveMode>,
}

impl Viewer {
    /// The role in the current organization, if any.
    pub fn role(&self) -> Option<Role> {
        self.current.as_ref().map(|m| m.role)
    }

    /// Whether the viewer may do what `required` may do in the current org.
    pub fn can(&self, required: Role) -> bool {
        self.role().is_some_and(|r| r.allows(required))
    }
}

/// A member of an organization, as the members page lists them.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// The organization's settings page.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSettings {
    pub org_id: Uuid,
    pub name: String,
    pub mode: OrgMode,
    pub created_at: DateTime<Utc>,
    /// Call records keep full arguments (detected values redacted) instead
    /// of their shape (types, lengths, placeholders).
    #[serde(default)]
    pub store_full_arguments: bool,
}

/// What call records keep of the arguments.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceInput {
    /// true: full arguments with detected values redacted (values the rules
    /// did not flag stay readable by every member); false (default): the
    /// arguments' shape only.
    pub store_full_arguments: bool,
}

/// The sign-up / first-run form as submitted.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SignUpInput {
    pub org_name: String,
    pub email: String,
    pub password: String,
}

/// A sign-up whose every field is valid.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub org_name: OrgName,
    pub email: Email,
    pub password: NewPassword,
}

impl SignUpInput {
    /// Parses every field, reporting all problems at once.
    ///
    /// ```
    /// use shared::account::SignUpInput;
    /// let bad = SignUpInput { org_name: "".into(), email: "x".into(), password: "short".into() };
    /// let err = bad.parse().unwrap_err();
    /// assert_eq!(err.fields.len(), 3);
    /// ```
    pub fn parse(&self) -> Result<SignUp, crate::error::ApiError> {
        let mut errs = crate::error::FieldErrors::new();
        let org_name = errs.check("org_name", OrgName::parse(&self.org_name));
        let email = errs.check("email", self.email.parse::<Email>());
        let password = errs.check("password", NewPassword::parse(&self.password, &self.email));
        match (org_name, email, password) {
            (Some(org_name), Some(email), Some(password)) if errs.is_empty() => Ok(SignUp {
                org_name,
                email,
                password,
            }),
            _ => Err(errs.into_error()),
        }
    }
}

/// The invite form as submitted.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InviteInput {
    pub email: String,
    pub role: String,
}

/// A valid invitation request.
#[derive(Debug, Clone)]
pub struct Invite {
    pub email: Email,
    pub role: Role,
}

impl InviteInput {
    /// Parses every field.
    ///
    /// ```
    /// use shared::account::{InviteInput, Role};
    /// let ok = InviteInput { email: "Bo@Example.com".into(), role: "viewer".into() };
    /// let i = ok.parse().unwrap();
    /// assert_eq!((i.email.as_str(), i.role), ("bo@example.com", Role::Viewer));
    /// assert!(InviteInput { email: "bo".into(), role: "king".into() }.parse().is_err());
    /// ```
    pub fn parse(&self) -> Result<Invite, crate::error::ApiError> {
        let mut errs = crate::error::FieldErrors::new();
        let email = errs.check("email", self.email.parse::<Email>());
        let role = errs.check("role", self.role.parse::<Role>());
        match (email, role) {
            (Some(email), Some(role)) if errs.is_empty() => Ok(Invite { email, role }),
            _ => Err(errs.into_error()),
        }
    }
}

/// A pending invitation as listed to admins.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A new invitation and its link, shown once.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationCreated {
    pub invitation: Invitation,
    /// The single-use link to give the person (it carries the secret).
    pub link: String,
}

/// What the invitation page shows the person holding the link.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationPreview {
    pub org_name: String,
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// Who is acting on a tenant's behalf.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// A signed-in dashboard member.
    Member { user_id: Uuid },
    /// An org-scoped admin API token.
    ApiToken { token_id: Uuid },
}

/// Who the credentials of an admin API request belong to (`GET /me`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub org_id: Uuid,
    pub role: Role,
    pub actor: Actor,
}

/// The verified tenant context every service function takes first: which
/// org, which role, and who. Only the server's authentication code builds
/// one, after checking the session or token against the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantCtx {
    pub org_id: Uuid,
    pub role: Role,
    pub actor: Actor,
}

impl TenantCtx {
    /// `Ok` when the caller's role includes `required`.
    pub fn require(&self, required: Role) -> Result<(), crate::error::ApiError> {
        if self.role.allows(required) {
            Ok(())
        } else {
            Err(crate::error::ApiError::forbidden())
        }
    }

    /// `Ok` when the caller may manage a member with role `other` (see
    /// [`Role::can_manage`]).
    pub fn require_manage(&self, other: Role) -> Result<(), crate::error::ApiError> {
        if self.role.can_manage(other) {
            Ok(())
        } else {
            Err(crate::error::ApiError::forbidden())
        }
    }

    /// The signed-in user, when the actor is a member.
    pub fn user_id(&self) -> Option<Uuid> {
        match self.actor {
            Actor::Member { user_id } => Some(user_id),
            Actor::ApiToken { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "X@EXAMPLE.IO"] {
            assert!(ok.parse::<Email>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@",
            "@b.co",
            "a@b",
            "a@b.1",
            "a@-b.co",
            "a b@c.co",
            "\"q\"@b.co",
            "a@[1.2.3.4]",
            "Ada <ada@example.com>",
        ] {
            assert!(bad.parse::<Email>().is_err(), "{bad}");
        }
    }

    #[test]
    fn password_rule_rejects_weak_passwords() {
        assert_eq!(
            NewPassword::parse("elevenchars", "a@b.co").unwrap_err(),
            WeakPassword::TooShort
        );
        assert_eq!(
            NewPassword::parse(&"a".repeat(20), "a@b.co").unwrap_err(),
            WeakPassword::Guessable
        );
        assert_eq!(
            NewPassword::parse("someone@example.com", "someone@example.com").unwrap_err(),
            WeakPassword::Guessable
        );
        assert_eq!(
            NewPassword::parse(&"ab".repeat(65), "a@b.co").unwrap_err(),
            WeakPassword::TooLong
        );
        // Length counts characters, not bytes.
        assert!(NewPassword::parse("ééééééééééé", "a@b.co").is_err());
        assert!(NewPassword::parse("éééééééééééx", "a@b.co").is_ok());
    }

    #[test]
    fn roles_are_ordered() {
        for r in Role::ALL {
            assert!(Role::Owner.allows(r));
            assert!(r.allows(Role::Viewer));
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!(!Role::Approver.allows(Role::Admin));
        assert!("superuser".parse::<Role>().is_err());
    }

    #[test]
    fn org_names_are_trimmed_and_bounded() {
        assert!(OrgName::parse(&"x".repeat(81)).is_err());
        assert!(OrgName::parse("a\u{7}b").is_err());
        assert_eq!(
            OrgName::parse(&"é".repeat(80))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            80
        );
    }
}
