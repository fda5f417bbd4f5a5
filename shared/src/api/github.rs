//! The GitHub connector: the deployment's GitHub App, the installations
//! orgs connect, and the repositories a Tool Pack may reach.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ApiError, FieldErrors};

/// Whether the operator configured a GitHub App (what the Connectors page
/// needs to offer "Connect GitHub").
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubAppStatus {
    pub configured: bool,
    /// The App's slug (its public page is `<web>/apps/<slug>`).
    pub slug: Option<String>,
    /// The GitHub (or GitHub Enterprise Server) the App lives on.
    pub web_url: Option<String>,
    /// This org's installations.
    pub installations: Vec<GitHubInstallation>,
}

/// Where an installation stands, as GitHub last told us.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallationStatus {
    Active,
    /// Suspended on GitHub: calls fail until it is unsuspended.
    Suspended,
    /// Uninstalled on GitHub: disconnect it here.
    Deleted,
}

impl InstallationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallationStatus::Active => "active",
            InstallationStatus::Suspended => "suspended",
            InstallationStatus::Deleted => "deleted",
        }
    }

    /// Parses the stored form.
    ///
    /// ```
    /// use shared::api::InstallationStatus;
    /// assert_eq!(InstallationStatus::parse("suspended"), Some(InstallationStatus::Suspended));
    /// assert_eq!(InstallationStatus::parse("gone"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Suspended, Self::Deleted]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A GitHub App installation connected to this org.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubInstallation {
    /// The connector its tools belong to (`<name>__…`).
    pub connector_id: Uuid,
    pub connector_name: String,
    pub installation_id: i64,
    /// The GitHub organization or user it is installed on.
    pub account_login: String,
    pub account_type: String,
    /// `all` or `selected`.
    pub repository_selection: String,
    /// Full names (`owner/name`) it can reach.
    pub repositories: Vec<String>,
    /// What the installation granted (`contents: write`, …).
    pub permissions: BTreeMap<String, String>,
    pub status: InstallationStatus,
    pub connected_at: DateTime<Utc>,
    pub refreshed_at: DateTime<Utc>,
}

/// The "Connect GitHub" form: which GitHub account the admin is about to
/// install the App on (the installation is checked against it).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GitHubConnectInput {
    pub account: String,
}

impl GitHubConnectInput {
    /// A GitHub login (user or organization): 1–39 letters, digits or single
    /// hyphens, not starting or ending with a hyphen.
    ///
    /// ```
    /// use shared::api::GitHubConnectInput;
    /// let ok = GitHubConnectInput { account: " acme-corp ".into() };
    /// assert_eq!(ok.parse().unwrap(), "acme-corp");
    /// assert!(GitHubConnectInput { account: "-acme".into() }.parse().is_err());
    /// assert!(GitHubConnectInput { account: "acme/api".into() }.parse().is_err());
    /// ```
    pub fn parse(&self) -> Result<String, ApiError> {
        let a = self.account.trim().trim_start_matches('@');
        if is_login(a) {
            Ok(a.to_owned())
        } else {
            Err(FieldErrors::new()
                .with(
                    "account",
                    "Enter the GitHub organization or user name to install on, like acme-corp.",
                )
                .into_error())
        }
    }
}

fn is_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 39
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// A repository's full name, `owner/name`.
///
/// ```
/// use shared::api::is_repository_name;
/// assert!(is_repository_name("acme-corp/api.v2"));
/// assert!(!is_repository_name("acme-corp"));
/// assert!(!is_repository_name("acme/../etc"));
/// ```
pub fn is_repository_name(s: &str) -> bool {
    let Some((owner, name)) = s.split_once('/') else {
        return false;
    };
    is_login(owner)
        && !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Where the installation flow started ("Connect GitHub"): the browser
/// goes to `url` (the App's installation page, with a single-use state).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubConnectStarted {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// The repositories of one GitHub connector a Tool Pack may reach.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackRepositories {
    pub connector_id: Uuid,
    pub connector_name: String,
    /// What the installation can reach (choose from these).
    pub available: Vec<String>,
    /// What the pack may reach (none = no repository).
    pub selected: Vec<String>,
}

/// The body of `PUT /packs/{id}/repositories`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PackRepositoriesInput {
    pub connector_id: Uuid,
    pub repositories: Vec<String>,
}

impl PackRepositoriesInput {
    /// Trims, checks every name and removes duplicates (sorted).
    ///
    /// ```
    /// use shared::api::PackRepositoriesInput;
    /// let i = PackRepositoriesInput { connector_id: uuid::Uuid::nil(),
    ///     repositories: vec![" acme/web".into(), "acme/api".into(), "acme/api".into()] };
    /// assert_eq!(i.parse().unwrap(), vec!["acme/api".to_owned(), "acme/web".to_owned()]);
    /// let bad = PackRepositoriesInput { repositories: vec!["acme".into()], ..i };
    /// assert!(bad.parse().unwrap_err().field("repositories").is_some());
    /// ```
    pub fn parse(&self) -> Result<Vec<String>, ApiError> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.repositories {
            let r = r.trim();
            if !is_repository_name(r) {
                return Err(FieldErrors::new()
                    .with(
                        "repositories",
                        format!("{r:?} is not a repository name (owner/name)."),
                    )
                    .into_error());
            }
            out.push(r.to_owned());
        }
        out.sort();
        out.dedup();
        if out.len() > 1000 {
            return Err(FieldErrors::new()
                .with("repositories", "Choose at most 1,000 repositories.")
                .into_error());
        }
        Ok(out)
    }
}
