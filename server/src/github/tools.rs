//! The governed GitHub tools: what agents see (`github__<tool>`: name,
//! description, JSON Schema, read/write) and what each call is once its
//! arguments are parsed ([`Call`]).
//!
//! The catalogue is ours, not discovered: a GitHub connector's tools are
//! written from it into `connector_tools` when the installation is
//! connected, so Tool Packs choose them like any other tool.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

/// A GitHub App permission level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Read,
    Write,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
        }
    }
}

/// One governed tool.
pub struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// Whether it changes anything on GitHub.
    pub write: bool,
    /// The installation permission it needs (besides `metadata: read`).
    pub permission: Option<(&'static str, Level)>,
    schema: fn() -> Value,
}

impl ToolDef {
    pub fn input_schema(&self) -> Value {
        (self.schema)()
    }

    /// MCP tool annotations (hints for clients).
    pub fn annotations(&self) -> Value {
        json!({
            "title": self.title,
            "readOnlyHint": !self.write,
            "destructiveHint": self.name == "merge_pull_request" || self.name == "create_or_update_file",
            "openWorldHint": true,
        })
    }
}

fn repo_prop() -> Value {
    json!({"type": "string", "description": "The repository, as owner/name.", "pattern": "^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$"})
}

fn limit_prop() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": MAX_ITEMS, "default": DEFAULT_ITEMS,
           "description": "How many to return (newest first)."})
}

fn object(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

/// Most items a list returns (GitHub's page size).
pub const MAX_ITEMS: u32 = 100;
const DEFAULT_ITEMS: u32 = 30;

/// Every governed tool, reads first.
pub const TOOLS: &[ToolDef] = &[
    ToolDef {
        name: "list_repositories",
        title: "List repositories",
        description: "List the GitHub repositories this Tool Pack may use.",
        write: false,
        permission: None,
        schema: || object(json!({}), &[]),
    },
    ToolDef {
        name: "get_file",
        title: "Get a file or directory",
        description: "Read a file's text, or list a directory, at a branch, tag or commit (default: the default branch). Large files are cut and say so.",
        write: false,
        permission: Some(("contents", Level::Read)),
        schema: || {
            object(
                json!({"repository": repo_prop(),
                       "path": {"type": "string", "description": "Path inside the repository; empty for the root.", "default": ""},
                       "ref": {"type": "string", "description": "Branch, tag or commit SHA."}}),
                &["repository"],
            )
        },
    },
    ToolDef {
        name: "search_code",
        title: "Search code",
        description: "Search code in one repository, or in every repository this Tool Pack may use.",
        write: false,
        permission: Some(("contents", Level::Read)),
        schema: || {
            object(
                json!({"query": {"type": "string", "minLength": 1, "maxLength": 256, "description": "Words to find (GitHub code search syntax without repo: qualifiers)."},
                       "repository": repo_prop(),
                       "limit": limit_prop()}),
                &["query"],
            )
        },
    },
    ToolDef {
        name: "list_issues",
        title: "List issues",
        description: "List a repository's issues (pull requests excluded).",
        write: false,
        permission: Some(("issues", Level::Read)),
        schema: || {
            object(
                json!({"repository": repo_prop(),
                       "state": {"type": "string", "enum": ["open", "closed", "all"], "default": "open"},
                       "limit": limit_prop()}),
                &["repository"],
            )
        },
    },
    ToolDef {
        name: "get_issue",
        title: "Get an issue",
        description: "Read one issue.",
        write: false,
        permission: Some(("issues", Level::Read)),
        schema: || {
            object(
                json!({"repository": repo_prop(), "number": {"type": "integer", "minimum": 1}}),
                &["repository", "number"],
            )
        },
    },
    ToolDef {
        name: "list_pull_requests",
        title: "List pull requests",
        description: "List a repository's pull requests.",
        write: false,
        permission: Some(("pull_requests", Level::Read)),
        schema: || {
            object(
                json!({"repository": repo_prop(),
                       "state": {"type": "string", "enum": ["open", "closed", "all"], "default": "open"},
                       "limit": limit_prop()}),
                &["repository"],
            )
        },
    },
    ToolDef {
        name: "get_pull_request",
        title: "Get a pull request",
        description: "Read one pull request, with its diff (large diffs are cut and say so).",
        write: false,
        permission: Some(("pull_requests", Level::Read)),
        schema: || {
            object(
                json!({"repository": repo_prop(), "number": {"type": "integer", "minimum": 1},
                       "include_diff": {"type": "boolean", "default": true}}),
                &["repository", "number"],
            )
        },
    },
    ToolDef {
        name: "list_commits",
        title: "List commits",
        description: "List the commits of a branch (default: the default branch), newest first.",
        write: false,
        permission: Some(("contents", Level::Read)),
        schema: || {
            object(
                json!({"repository": repo_prop(), "ref": {"type": "string"}, "limit": limit_prop()}),
                &["repository"],
            )
        },
    },
    ToolDef {
        name: "get_workflow_run",
        title: "Get a workflow run",
        description: "Read a GitHub Actions workflow run's status and conclusion.",
        write: false,
        permission: Some(("actions", Level::Read)),
        schema: || {
            object(
                json!({"repository": repo_prop(), "run_id": {"type": "integer", "minimum": 1}}),
                &["repository", "run_id"],
            )
        },
    },
    ToolDef {
        name: "create_issue",
        title: "Create an issue",
        description: "Open an issue.",
        write: true,
        permission: Some(("issues", Level::Write)),
        schema: || {
            object(
                json!({"repository": repo_prop(),
                       "title": {"type": "string", "minLength": 1, "maxLength": 256},
                       "body": {"type": "string", "maxLength": 65536},
                       "labels": {"type": "array", "items": {"type": "string"}, "maxItems": 20}}),
                &["repository", "title"],
            )
        },
    },
    ToolDef {
        name: "create_comment",
        title: "Comment on an issue or pull request",
        description: "Add a comment to an issue or a pull request.",
        write: true,
        permission: Some(("issues", Level::Write)),
        schema: || {
            object(
                json!({"repository": repo_prop(), "number": {"type": "integer", "minimum": 1},
                       "body": {"type": "string", "minLength": 1, "maxLength": 65536}}),
                &["repository", "number", "body"],
            )
        },
    },
    ToolDef {
        name: "create_branch",
        title: "Create a branch",
        description: "Create a branch from another branch (default: the default branch).",
        write: true,
        permission: Some(("contents", Level::Write)),
        schema: || {
            object(
                json!({"repository": repo_prop(), "branch": {"type": "string", "minLength": 1, "maxLength": 200},
                       "from": {"type": "string", "description": "The branch to start from."}}),
                &["repository", "branch"],
            )
        },
    },
    ToolDef {
        name: "create_or_update_file",
        title: "Create or update a file",
        description: "Commit a file's new text to a branch. To change an existing file, pass the sha get_file returned.",
        write: true,
        permission: Some(("contents", Level::Write)),
        schema: || {
            object(
                json!({"repository": repo_prop(), "path": {"type": "string", "minLength": 1},
                       "branch": {"type": "string", "minLength": 1},
                       "content": {"type": "string", "maxLength": 1_048_576, "description": "The whole new text of the file."},
                       "message": {"type": "string", "minLength": 1, "maxLength": 1000},
                       "sha": {"type": "string", "description": "The current file's blob SHA (required to update)."}}),
                &["repository", "path", "branch", "content", "message"],
            )
        },
    },
    ToolDef {
        name: "create_pull_request",
        title: "Open a pull request",
        description: "Open a pull request from a branch (into the default branch unless base is given).",
        write: true,
        permission: Some(("pull_requests", Level::Write)),
        schema: || {
            object(
                json!({"repository": repo_prop(), "title": {"type": "string", "minLength": 1, "maxLength": 256},
                       "head": {"type": "string", "minLength": 1}, "base": {"type": "string"},
                       "body": {"type": "string", "maxLength": 65536}, "draft": {"type": "boolean"}}),
                &["repository", "title", "head"],
            )
        },
    },
    ToolDef {
        name: "request_reviewers",
        title: "Request reviewers",
        description: "Ask people to review a pull request.",
        write: true,
        permission: Some(("pull_requests", Level::Write)),
        schema: || {
            object(
                json!({"repository": repo_prop(), "number": {"type": "integer", "minimum": 1},
                       "reviewers": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 15}}),
                &["repository", "number", "reviewers"],
            )
        },
    },
    ToolDef {
        name: "merge_pull_request",
        title: "Merge a pull request",
        description: "Merge a pull request.",
        write: true,
        permission: Some(("contents", Level::Write)),
        schema: || {
            object(
                json!({"repository": repo_prop(), "number": {"type": "integer", "minimum": 1},
                       "merge_method": {"type": "string", "enum": ["merge", "squash", "rebase"], "default": "merge"},
                       "commit_title": {"type": "string", "maxLength": 256}}),
                &["repository", "number"],
            )
        },
    },
];

/// The tool of this name.
pub fn find(name: &str) -> Option<&'static ToolDef> {
    TOOLS.iter().find(|t| t.name == name)
}

/// The permissions a set of tools needs together (the strongest level per
/// permission), always with `metadata: read`: what an installation token
/// for a Tool Pack is scoped down to.
pub fn permissions_for<'a>(tools: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<&'static str, Level> = BTreeMap::new();
    out.insert("metadata", Level::Read);
    for t in tools.into_iter().filter_map(find) {
        if let Some((p, level)) = t.permission {
            let e = out.entry(p).or_insert(level);
            *e = (*e).max(level);
        }
    }
    out.into_iter()
        .map(|(k, v)| (k.to_owned(), v.as_str().to_owned()))
        .collect()
}

/// Items per list, bounded.
fn items(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_ITEMS).clamp(1, MAX_ITEMS)
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Open,
    Closed,
    All,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Closed => "closed",
            State::All => "all",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MergeMethod {
    Merge,
    Squash,
    Rebase,
}

impl MergeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }
}

/// A governed call with its arguments parsed (JSON Schema as above).
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    ListRepositories,
    GetFile {
        repository: String,
        path: String,
        r#ref: Option<String>,
    },
    SearchCode {
        query: String,
        repository: Option<String>,
        limit: u32,
    },
    ListIssues {
        repository: String,
        state: State,
        limit: u32,
    },
    GetIssue {
        repository: String,
        number: u64,
    },
    ListPullRequests {
        repository: String,
        state: State,
        limit: u32,
    },
    GetPullRequest {
        repository: String,
        number: u64,
        include_diff: bool,
    },
    ListCommits {
        repository: String,
        r#ref: Option<String>,
        limit: u32,
    },
    GetWorkflowRun {
        repository: String,
        run_id: u64,
    },
    CreateIssue {
        repository: String,
        title: String,
        body: Option<String>,
        labels: Vec<String>,
    },
    CreateComment {
        repository: String,
        number: u64,
        body: String,
    },
    CreateBranch {
        repository: String,
        branch: String,
        from: Option<String>,
    },
    CreateOrUpdateFile {
        repository: String,
        path: String,
        branch: String,
        content: String,
        message: String,
        sha: Option<String>,
    },
    CreatePullRequest {
        repository: String,
        title: String,
        head: String,
        base: Option<String>,
        body: Option<String>,
        draft: bool,
    },
    RequestReviewers {
        repository: String,
        number: u64,
        reviewers: Vec<String>,
    },
    MergePullRequest {
        repository: String,
        number: u64,
        merge_method: MergeMethod,
        commit_title: Option<String>,
    },
}

// The argument shapes, as serde reads them (unknown fields refused, like
// the schemas' `additionalProperties: false`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileArgs {
    repository: String,
    #[serde(default)]
    path: String,
    r#ref: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    query: String,
    repository: Option<String>,
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    repository: String,
    state: Option<State>,
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NumberArgs {
    repository: String,
    number: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PullArgs {
    repository: String,
    number: u64,
    include_diff: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitsArgs {
    repository: String,
    r#ref: Option<String>,
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunArgs {
    repository: String,
    run_id: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueArgs {
    repository: String,
    title: String,
    body: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentArgs {
    repository: String,
    number: u64,
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BranchArgs {
    repository: String,
    branch: String,
    from: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWriteArgs {
    repository: String,
    path: String,
    branch: String,
    content: String,
    message: String,
    sha: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PullCreateArgs {
    repository: String,
    title: String,
    head: String,
    base: Option<String>,
    body: Option<String>,
    #[serde(default)]
    draft: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewersArgs {
    repository: String,
    number: u64,
    reviewers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeArgs {
    repository: String,
    number: u64,
    merge_method: Option<MergeMethod>,
    commit_title: Option<String>,
}

fn args<T: for<'de> Deserialize<'de>>(v: &Value) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| e.to_string())
}

/// A branch, tag or path piece that is safe inside a URL path: no `..`
/// segment, no control characters, nothing URL-significant.
fn clean_ref(what: &str, s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 255
        && !s.split('/').any(|p| p == ".." || p == "." || p.is_empty())
        && !s
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "?#%\\~^:*[".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("{what} {s:?} is not a valid name"))
    }
}

fn clean_path(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    let ok = s.len() <= 1024
        && !s.starts_with('/')
        && !s.split('/').any(|p| p == ".." || p == "." || p.is_empty())
        && !s.chars().any(|c| c.is_control() || "?#%\\".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("path {s:?} is not a path inside the repository"))
    }
}

fn repo(s: String) -> Result<String, String> {
    if shared::api::is_repository_name(&s) {
        Ok(s)
    } else {
        Err(format!("repository {s:?} is not owner/name"))
    }
}

fn opt_ref(what: &str, r: Option<String>) -> Result<Option<String>, String> {
    if let Some(r) = &r {
        clean_ref(what, r)?;
    }
    Ok(r)
}

fn text(what: &str, s: &str, max: usize) -> Result<(), String> {
    if s.trim().is_empty() {
        Err(format!("{what} must not be empty"))
    } else if s.len() > max {
        Err(format!("{what} is longer than {max} bytes"))
    } else {
        Ok(())
    }
}

impl Call {
    /// Parses a tool's arguments; the message names what is wrong.
    ///
    /// Names that end up in a GitHub URL (repository, path, branches) are
    /// checked here, so an argument can never reach another endpoint.
    pub fn parse(tool: &str, a: &Value) -> Result<Call, String> {
        let a = if a.is_null() { &json!({}) } else { a };
        Ok(match tool {
            "list_repositories" => {
                args::<NoArgs>(a)?;
                Call::ListRepositories
            }
            "get_file" => {
                let f: FileArgs = args(a)?;
                clean_path(&f.path)?;
                Call::GetFile {
                    repository: repo(f.repository)?,
                    path: f.path.trim_end_matches('/').to_owned(),
                    r#ref: opt_ref("ref", f.r#ref)?,
                }
            }
            "search_code" => {
                let s: SearchArgs = args(a)?;
                text("query", &s.query, 256)?;
                if s.query.contains("repo:")
                    || s.query.contains("org:")
                    || s.query.contains("user:")
                {
                    return Err(
                        "query must not carry repo:, org: or user: qualifiers (use repository)"
                            .to_owned(),
                    );
                }
                Call::SearchCode {
                    query: s.query,
                    repository: s.repository.map(repo).transpose()?,
                    limit: items(s.limit),
                }
            }
            "list_issues" | "list_pull_requests" => {
                let l: ListArgs = args(a)?;
                let (repository, state, limit) = (
                    repo(l.repository)?,
                    l.state.unwrap_or(State::Open),
                    items(l.limit),
                );
                if tool == "list_issues" {
                    Call::ListIssues {
                        repository,
                        state,
                        limit,
                    }
                } else {
                    Call::ListPullRequests {
                        repository,
                        state,
                        limit,
                    }
                }
            }
            "get_issue" => {
                let n: NumberArgs = args(a)?;
                Call::GetIssue {
                    repository: repo(n.repository)?,
                    number: n.number,
                }
            }
            "get_pull_request" => {
                let p: PullArgs = args(a)?;
                Call::GetPullRequest {
                    repository: repo(p.repository)?,
                    number: p.number,
                    include_diff: p.include_diff.unwrap_or(true),
                }
            }
            "list_commits" => {
                let c: CommitsArgs = args(a)?;
                Call::ListCommits {
                    repository: repo(c.repository)?,
                    r#ref: opt_ref("ref", c.r#ref)?,
                    limit: items(c.limit),
                }
            }
            "get_workflow_run" => {
                let r: RunArgs = args(a)?;
                Call::GetWorkflowRun {
                    repository: repo(r.repository)?,
                    run_id: r.run_id,
                }
            }
            "create_issue" => {
                let i: IssueArgs = args(a)?;
                text("title", &i.title, 256)?;
                if i.labels.len() > 20 {
                    return Err("at most 20 labels".to_owned());
                }
                Call::CreateIssue {
                    repository: repo(i.repository)?,
                    title: i.title,
                    body: i.body,
                    labels: i.labels,
                }
            }
            "create_comment" => {
                let c: CommentArgs = args(a)?;
                text("body", &c.body, 65536)?;
                Call::CreateComment {
                    repository: repo(c.repository)?,
                    number: c.number,
                    body: c.body,
                }
            }
            "create_branch" => {
                let b: BranchArgs = args(a)?;
                clean_ref("branch", &b.branch)?;
                Call::CreateBranch {
                    repository: repo(b.repository)?,
                    branch: b.branch,
                    from: opt_ref("from", b.from)?,
                }
            }
            "create_or_update_file" => {
                let f: FileWriteArgs = args(a)?;
                if f.path.is_empty() {
                    return Err("path must not be empty".to_owned());
                }
                clean_path(&f.path)?;
                clean_ref("branch", &f.branch)?;
                text("message", &f.message, 1000)?;
                if f.content.len() > 1_048_576 {
                    return Err("content is larger than 1 MiB".to_owned());
                }
                Call::CreateOrUpdateFile {
                    repository: repo(f.repository)?,
                    path: f.path,
                    branch: f.branch,
                    content: f.content,
                    message: f.message,
                    sha: f.sha,
                }
            }
            "create_pull_request" => {
                let p: PullCreateArgs = args(a)?;
                text("title", &p.title, 256)?;
                clean_ref("head", &p.head)?;
                Call::CreatePullRequest {
                    repository: repo(p.repository)?,
                    title: p.title,
                    head: p.head,
                    base: opt_ref("base", p.base)?,
                    body: p.body,
                    draft: p.draft,
                }
            }
            "request_reviewers" => {
                let r: ReviewersArgs = args(a)?;
                if r.reviewers.is_empty() || r.reviewers.len() > 15 {
                    return Err("name 1 to 15 reviewers".to_owned());
                }
                Call::RequestReviewers {
                    repository: repo(r.repository)?,
                    number: r.number,
                    reviewers: r.reviewers,
                }
            }
            "merge_pull_request" => {
                let m: MergeArgs = args(a)?;
                Call::MergePullRequest {
                    repository: repo(m.repository)?,
                    number: m.number,
                    merge_method: m.merge_method.unwrap_or(MergeMethod::Merge),
                    commit_title: m.commit_title,
                }
            }
            other => return Err(format!("unknown GitHub tool {other}")),
        })
    }

    /// The one repository the call touches (`None`: several, or none named).
    pub fn repository(&self) -> Option<&str> {
        match self {
            Call::ListRepositories => None,
            Call::SearchCode { repository, .. } => repository.as_deref(),
            Call::GetFile { repository, .. }
            | Call::ListIssues { repository, .. }
            | Call::GetIssue { repository, .. }
            | Call::ListPullRequests { repository, .. }
            | Call::GetPullRequest { repository, .. }
            | Call::ListCommits { repository, .. }
            | Call::GetWorkflowRun { repository, .. }
            | Call::CreateIssue { repository, .. }
            | Call::CreateComment { repository, .. }
            | Call::CreateBranch { repository, .. }
            | Call::CreateOrUpdateFile { repository, .. }
            | Call::CreatePullRequest { repository, .. }
            | Call::RequestReviewers { repository, .. }
            | Call::MergePullRequest { repository, .. } => Some(repository),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_parses_its_minimal_arguments_and_has_an_object_schema() {
        let minimal = |t: &ToolDef| -> Value {
            let schema = t.input_schema();
            let mut o = serde_json::Map::new();
            for r in schema["required"].as_array().unwrap() {
                let k = r.as_str().unwrap();
                let v = match schema["properties"][k]["type"].as_str().unwrap() {
                    "integer" => json!(3),
                    "array" => json!(["octocat"]),
                    _ if k == "repository" => json!("acme/api"),
                    _ => json!("x"),
                };
                o.insert(k.to_owned(), v);
            }
            Value::Object(o)
        };
        assert_eq!(TOOLS.len(), 16);
        for t in TOOLS {
            assert_eq!(t.input_schema()["type"], "object", "{}", t.name);
            let call = Call::parse(t.name, &minimal(t));
            assert!(call.is_ok(), "{}: {call:?}", t.name);
        }
    }

    #[test]
    fn names_that_would_leave_the_repository_are_refused() {
        for (tool, a) in [
            (
                "get_file",
                json!({"repository": "acme/api", "path": "../../orgs/x"}),
            ),
            ("get_file", json!({"repository": "acme/../x", "path": "a"})),
            (
                "get_file",
                json!({"repository": "acme/api", "path": "a?ref=x"}),
            ),
            (
                "get_file",
                json!({"repository": "acme/api", "ref": "main/../x"}),
            ),
            (
                "create_branch",
                json!({"repository": "acme/api", "branch": "a b"}),
            ),
            ("search_code", json!({"query": "x repo:other/repo"})),
            (
                "get_issue",
                json!({"repository": "acme/api", "number": 1, "extra": true}),
            ),
            ("get_issue", json!({"repository": "acme/api", "number": -1})),
        ] {
            assert!(Call::parse(tool, &a).is_err(), "{tool} {a}");
        }
    }

    #[test]
    fn a_packs_permissions_are_the_strongest_its_tools_need() {
        let p = permissions_for(["get_file", "create_or_update_file", "list_issues"]);
        assert_eq!(p["contents"], "write");
        assert_eq!(p["issues"], "read");
        assert_eq!(p["metadata"], "read");
        assert!(!p.contains_key("pull_requests"));
        assert_eq!(permissions_for(["list_repositories"]).len(), 1);
    }
}
