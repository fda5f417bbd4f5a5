"""A fake GitHub for tests: the REST API of a GitHub App and its install page.

No internet: integration tests and Playwright talk to this instead of
github.com. It plays GitHub Enterprise Server's layout, so one base URL
serves both the API (``/api/v3/...``) and the web pages (``/apps/...``).

    python fake_github.py --port 0 --app-id 4242 --slug gatehouse-test \\
        --key-out /tmp/app.pem [--setup-url http://127.0.0.1:3000/github/setup]

On start it makes a fresh RSA key pair, writes the private key to --key-out
(PKCS#1 PEM, like the key GitHub lets you download for an App), prints one
line ``ready <port>`` and serves until killed. ``--port 0`` picks a free port.

What it models (seeded, deterministic; ``POST /_fake/reset`` restores it):

* App JWTs (RS256, ``iss`` = app id, lifetime <= 10 min + skew) for
  ``GET /app``, ``GET /app/installations/{id}`` and
  ``POST /app/installations/{id}/access_tokens``.
* Installation tokens (``ghs_…``, one hour) scoped to repositories and
  permissions; every token endpoint checks both, as GitHub does (a repository
  outside the token is a 404, a missing permission a 403).
* Installations 1001 (acme-corp: api, web, infra) and 1002 (other-co: site)
  of our App, and 2001 of another App (invisible to our JWT).
* Repository contents per branch, code search, issues, pulls (with diffs),
  commits, refs, a workflow run.

Control endpoints for tests (no auth, JSON): ``GET /_fake/requests``,
``GET /_fake/tokens``, ``POST /_fake/installations/{id}``,
``POST /_fake/setup_url``, ``POST /_fake/rate_limit``, ``POST /_fake/reset``.
See the ``control`` method for their bodies.
"""

import argparse
import base64
import difflib
import hashlib
import html
import json
import os
import re
import secrets
import string
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DOCS = "https://docs.github.com/rest"
LEVELS = {"read": 1, "write": 2, "admin": 3}
RATE_LIMIT = 5000
TOKEN_TTL = 3600
JSON_TYPE = "application/json; charset=utf-8"
DIFF_TYPE = "application/vnd.github.diff; charset=utf-8"
OTHER_APP_ID = 9999
SEED_PERMISSIONS = {"metadata": "read", "contents": "write", "issues": "write", "pull_requests": "write", "actions": "read"}
AUTHOR = {"name": "Dana Developer", "email": "dev1@acme.example", "login": "dev1"}

API_FILES = {
    "README.md": b"# API\n\nThe acme API service.\n",
    "src/main.rs": (
        b"use std::net::SocketAddr;\n\n"
        b"/// Entry point of the acme API service.\n"
        b"fn main() {\n"
        b'    let addr: SocketAddr = "0.0.0.0:8080".parse().unwrap();\n'
        b"    serve(addr, login_handler);\n"
        b"}\n\n"
        b"/// The login handler accepts any non-empty user name.\n"
        b"fn login_handler(user: &str) -> bool {\n"
        b"    !user.is_empty()\n"
        b"}\n"
    ),
    # Secrets on purpose: the gateway's detectors must find them.
    "config/deploy.env": (
        b"AWS_ACCESS_KEY_ID=AKIAQ3EGVP5XH7W2RNTA\n"
        b"GITHUB_TOKEN=ghp_R4nD0mT0k3nV4lu3F0rT3st1ngXyZ12345ab\n"
    ),
}
# The head of PR #7: Safari sends the user name with surrounding spaces.
FIXED_MAIN_RS = API_FILES["src/main.rs"].replace(b"    !user.is_empty()\n", b"    !user.trim().is_empty()\n")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def blob_sha(data: bytes) -> str:
    # Git's own blob id, so shas look and behave like GitHub's.
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def fake_sha(*parts) -> str:
    return hashlib.sha1("\0".join(str(p) for p in parts).encode()).hexdigest()


def b64_lines(data: bytes) -> str:
    # GitHub wraps base64 file content at 60 characters.
    enc = base64.b64encode(data).decode()
    return "".join(enc[i:i + 60] + "\n" for i in range(0, len(enc), 60))


def make_diff(old: dict, new: dict):
    """A git-style unified diff of two {path: bytes} trees, with line counts."""
    out, adds, dels, changed = [], 0, 0, 0
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        changed += 1
        out.append(f"diff --git a/{path} b/{path}\n")
        if a is None:
            out.append(f"new file mode 100644\nindex 0000000..{blob_sha(b)[:7]}\n")
        elif b is None:
            out.append(f"deleted file mode 100644\nindex {blob_sha(a)[:7]}..0000000\n")
        else:
            out.append(f"index {blob_sha(a)[:7]}..{blob_sha(b)[:7]} 100644\n")
        lines = lambda d: [l if l.endswith("\n") else l + "\n" for l in (d or b"").decode("utf-8", "replace").splitlines(True)]
        for line in difflib.unified_diff(lines(a), lines(b), "/dev/null" if a is None else f"a/{path}",
                                         "/dev/null" if b is None else f"b/{path}"):
            out.append(line)
            if line.startswith("+") and not line.startswith("+++"):
                adds += 1
            elif line.startswith("-") and not line.startswith("---"):
                dels += 1
    return "".join(out), adds, dels, changed


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers=None, **extra):
        super().__init__(message)
        self.status, self.headers = status, headers or []
        self.payload = {"message": message, **extra, "documentation_url": DOCS}


def not_found():
    return ApiError(404, "Not Found")


def validation_failed(resource: str, field: str, code: str):
    return ApiError(422, "Validation Failed", errors=[{"resource": resource, "field": field, "code": code}])


class Raw:
    """A non-JSON API body (diffs)."""

    def __init__(self, text: str, content_type: str):
        self.data, self.content_type = text.encode(), content_type


class Response:
    def __init__(self, status: int, data: bytes, content_type: str, headers=None):
        self.status, self.data, self.content_type, self.headers = status, data, content_type, headers or []


class Repo:
    def __init__(self, rid, full_name, description, files, messages):
        self.id, self.full_name, self.description = rid, full_name, description
        self.owner, self.name = full_name.split("/")
        self.default_branch = "main"
        self.commits = {}   # sha -> {sha, parent, message, author, date, files}
        self.branches = {}  # name -> head sha
        self.items = {}     # number -> issue or pull request (one counter, as on GitHub)
        self.next_number = 1
        self.runs = {}
        parent, tree = None, {}
        # Seed history: each commit adds the files listed for it.
        for i, (message, paths) in enumerate(messages):
            tree = dict(tree, **{p: files[p] for p in paths})
            parent = self.add_commit(parent, message, tree, date=f"2024-04-0{i + 1}T10:00:00Z", sha=fake_sha(full_name, i))
        self.branches["main"] = parent

    def add_commit(self, parent, message, files, date=None, author=None, sha=None):
        sha = sha or fake_sha(self.full_name, parent, message, time.time(), secrets.token_hex(4))
        self.commits[sha] = {"sha": sha, "parent": parent, "message": message, "files": dict(files),
                             "author": author or AUTHOR, "date": date or iso(time.time())}
        return sha

    def files(self, branch):
        return self.commits[self.branches[branch]]["files"]


class State:
    """Everything mutable; rebuilt by /_fake/reset."""

    def __init__(self, app_id: int):
        self.repos = {}
        for rid, full, desc, files, history in [
            (7001, "acme-corp/api", "The acme API service", API_FILES,
             [("Initial commit", ["README.md"]), ("Add request handler", ["src/main.rs"]),
              ("Add deploy configuration", ["config/deploy.env"])]),
            (7002, "acme-corp/web", "The acme web site",
             {"README.md": b"# Web\n", "index.html": b"<!doctype html>\n<title>acme</title>\n<h1>acme</h1>\n"},
             [("Initial commit", ["README.md", "index.html"])]),
            (7003, "acme-corp/infra", "acme infrastructure",
             {"main.tf": b'provider "aws" {\n  region = "eu-west-1"\n}\n'}, [("Initial commit", ["main.tf"])]),
            (7004, "other-co/site", "other-co's site", {"README.md": b"# Site\n"}, [("Initial commit", ["README.md"])]),
        ]:
            self.repos[full] = Repo(rid, full, desc, files, history)
        api = self.repos["acme-corp/api"]
        api.branches["develop"] = api.branches["main"]
        fix = api.add_commit(api.branches["main"], "Trim the user name before checking it",
                             dict(api.files("main"), **{"src/main.rs": FIXED_MAIN_RS}),
                             date="2024-04-05T10:00:00Z", sha=fake_sha("acme-corp/api", "fix-login"))
        api.branches["fix-login"] = fix
        api.items[1] = self.issue(1, "Login fails on Safari", "open", "Safari users get a blank page after submitting the login form.",
                                  "dev1", [], "2024-04-10T09:00:00Z")
        api.items[2] = self.issue(2, "Add rate limiting", "closed", "Limit requests per client.", "dev1", [],
                                  "2024-04-11T09:00:00Z")
        api.items[7] = self.issue(7, "Fix login", "open", "Trims the user name; fixes #1.", "dev1", [], "2024-04-12T09:00:00Z")
        api.items[7]["pull"] = {"head": "fix-login", "base": "main", "merged": False, "merged_at": None,
                                "draft": False, "requested_reviewers": [], "frozen": None}
        api.next_number = 8
        api.runs[42] = {"id": 42, "name": "CI", "status": "completed", "conclusion": "success", "head_branch": "main",
                        "head_sha": api.branches["main"], "event": "push", "run_number": 17, "run_attempt": 1,
                        "run_started_at": "2024-04-03T10:01:00Z", "created_at": "2024-04-03T10:01:00Z",
                        "updated_at": "2024-04-03T10:04:30Z"}
        acme = {"login": "acme-corp", "id": 501, "type": "Organization"}
        self.installations = {
            1001: self.installation(1001, app_id, acme, ["acme-corp/api", "acme-corp/web", "acme-corp/infra"]),
            1002: self.installation(1002, app_id, {"login": "other-co", "id": 502, "type": "Organization"}, ["other-co/site"]),
            2001: self.installation(2001, OTHER_APP_ID, acme, ["acme-corp/api"]),
        }
        self.tokens = {}       # token value -> record
        self.token_log = []
        self.requests = []
        self.rate_limit_reset = None  # set: every token call is rate limited
        self.remaining = RATE_LIMIT
        self.window_reset = int(time.time()) + 3600
        self.comment_id = 900000

    @staticmethod
    def issue(number, title, state, body, login, labels, created):
        return {"number": number, "title": title, "state": state, "body": body, "user": login, "labels": list(labels),
                "comments": [], "created_at": created, "updated_at": created, "pull": None}

    @staticmethod
    def installation(iid, app_id, account, repos):
        return {"id": iid, "app_id": app_id, "account": account, "repository_selection": "selected",
                "repositories": list(repos), "permissions": dict(SEED_PERMISSIONS),
                "events": ["installation_repositories", "issues"], "suspended_at": None, "deleted": False,
                "created_at": "2024-04-01T08:00:00Z"}


class Ctx:
    """Per-request auth facts, also what the request log records."""

    def __init__(self):
        self.auth = "none"
        self.token = None
        self.installation_id = None
        self.rate_limited = False
        self.accept = ""
        self.url = ""
        self.headers = []  # extra response headers (Link)


class FakeGitHub:
    def __init__(self, app_id: int, slug: str, public_key, setup_url):
        self.app_id, self.slug, self.public_key, self.setup_url = app_id, slug, public_key, setup_url
        self.port = 0
        self.lock = threading.RLock()  # one lock around all state: handlers are short
        self.request_counter = 0
        self.state = State(app_id)
        o, r = r"(?P<owner>[^/]+)", r"(?P<repo>[^/]+)"
        repo = f"/repos/{o}/{r}"
        # (method, pattern, handler, auth kind)
        self.routes = [(m, re.compile(p + "$"), fn, kind) for m, p, fn, kind in [
            ("GET", "/app", self.get_app, "jwt"),
            ("GET", r"/app/installations/(?P<iid>\d+)", self.get_installation, "jwt"),
            ("POST", r"/app/installations/(?P<iid>\d+)/access_tokens", self.create_token, "jwt"),
            ("GET", "/installation/repositories", self.installation_repos, "token"),
            ("DELETE", "/installation/token", self.revoke_token, "token"),
            ("GET", "/search/code", self.search_code, "token"),
            ("GET", repo, self.get_repo, "token"),
            ("GET", repo + r"/contents(?:/(?P<path>.*))?", self.get_contents, "token"),
            ("PUT", repo + r"/contents/(?P<path>.+)", self.put_contents, "token"),
            ("GET", repo + "/issues", self.list_issues, "token"),
            ("POST", repo + "/issues", self.create_issue, "token"),
            ("GET", repo + r"/issues/(?P<n>\d+)", self.get_issue, "token"),
            ("POST", repo + r"/issues/(?P<n>\d+)/comments", self.create_comment, "token"),
            ("GET", repo + "/pulls", self.list_pulls, "token"),
            ("POST", repo + "/pulls", self.create_pull, "token"),
            ("GET", repo + r"/pulls/(?P<n>\d+)", self.get_pull, "token"),
            ("POST", repo + r"/pulls/(?P<n>\d+)/requested_reviewers", self.request_reviewers, "token"),
            ("PUT", repo + r"/pulls/(?P<n>\d+)/merge", self.merge_pull, "token"),
            ("GET", repo + "/commits", self.list_commits, "token"),
            ("GET", repo + r"/git/refs?/heads/(?P<branch>.+)", self.get_ref, "token"),
            ("POST", repo + "/git/refs", self.create_ref, "token"),
            ("GET", repo + r"/actions/runs/(?P<run>\d+)", self.get_run, "token"),
        ]]

    # ----- URLs and JSON shapes -----

    @property
    def web(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self):
        return f"{self.web}/api/v3"

    def repo_json(self, repo: Repo):
        owner = next((i["account"] for i in self.state.installations.values() if i["account"]["login"] == repo.owner),
                     {"login": repo.owner, "id": 0, "type": "Organization"})
        return {"id": repo.id, "node_id": f"R_fake{repo.id}", "name": repo.name, "full_name": repo.full_name,
                "private": True, "visibility": "private", "fork": False, "default_branch": repo.default_branch,
                "description": repo.description, "html_url": f"{self.web}/{repo.full_name}",
                "url": f"{self.api_base}/repos/{repo.full_name}", "owner": dict(owner)}

    def installation_json(self, inst):
        return {"id": inst["id"], "app_id": inst["app_id"],
                "app_slug": self.slug if inst["app_id"] == self.app_id else "another-app",
                "account": dict(inst["account"]), "target_type": inst["account"]["type"],
                "repository_selection": inst["repository_selection"], "permissions": dict(inst["permissions"]),
                "events": list(inst["events"]), "suspended_at": inst["suspended_at"],
                "created_at": inst["created_at"], "updated_at": inst["created_at"],
                "access_tokens_url": f"{self.api_base}/app/installations/{inst['id']}/access_tokens",
                "repositories_url": f"{self.api_base}/installation/repositories",
                "html_url": f"{self.web}/organizations/{inst['account']['login']}/settings/installations/{inst['id']}"}

    def item_url(self, repo, item):
        return f"{self.web}/{repo.full_name}/{'pull' if item['pull'] else 'issues'}/{item['number']}"

    def issue_json(self, repo, item):
        out = {"number": item["number"], "title": item["title"], "state": item["state"], "body": item["body"],
               "user": {"login": item["user"]}, "labels": [{"name": n} for n in item["labels"]],
               "comments": len(item["comments"]), "html_url": self.item_url(repo, item),
               "url": f"{self.api_base}/repos/{repo.full_name}/issues/{item['number']}",
               "created_at": item["created_at"], "updated_at": item["updated_at"],
               "closed_at": item["updated_at"] if item["state"] == "closed" else None}
        if item["pull"]:
            # GitHub lists pull requests among issues, marked by this key.
            out["pull_request"] = {"url": f"{self.api_base}/repos/{repo.full_name}/pulls/{item['number']}",
                                   "html_url": self.item_url(repo, item), "diff_url": self.item_url(repo, item) + ".diff",
                                   "merged_at": item["pull"]["merged_at"]}
        return out

    def pull_diff(self, repo, item):
        pr = item["pull"]
        if pr["frozen"] is not None:  # merged: the diff as it was at merge time
            return pr["frozen"]
        if pr["head"] not in repo.branches or pr["base"] not in repo.branches:
            return "", 0, 0, 0
        return make_diff(repo.files(pr["base"]), repo.files(pr["head"]))

    def pull_json(self, repo, item):
        pr = item["pull"]
        _, adds, dels, changed = self.pull_diff(repo, item)
        return {"number": item["number"], "title": item["title"], "state": item["state"], "body": item["body"],
                "user": {"login": item["user"]},
                "head": {"ref": pr["head"], "sha": repo.branches.get(pr["head"], pr.get("head_sha")),
                         "label": f"{repo.owner}:{pr['head']}", "repo": {"full_name": repo.full_name}},
                "base": {"ref": pr["base"], "sha": repo.branches.get(pr["base"]), "label": f"{repo.owner}:{pr['base']}",
                         "repo": {"full_name": repo.full_name}},
                "draft": pr["draft"], "merged": pr["merged"], "merged_at": pr["merged_at"],
                "mergeable": None if pr["merged"] else True, "additions": adds, "deletions": dels,
                "changed_files": changed, "html_url": self.item_url(repo, item),
                "diff_url": self.item_url(repo, item) + ".diff",
                "url": f"{self.api_base}/repos/{repo.full_name}/pulls/{item['number']}",
                "requested_reviewers": [{"login": r} for r in pr["requested_reviewers"]],
                "labels": [{"name": n} for n in item["labels"]],
                "created_at": item["created_at"], "updated_at": item["updated_at"]}

    def commit_json(self, repo, c):
        author = {"name": c["author"]["name"], "email": c["author"]["email"], "date": c["date"]}
        return {"sha": c["sha"], "commit": {"message": c["message"], "author": author, "committer": dict(author)},
                "html_url": f"{self.web}/{repo.full_name}/commit/{c['sha']}",
                "url": f"{self.api_base}/repos/{repo.full_name}/commits/{c['sha']}",
                "author": {"login": c["author"]["login"]},
                "parents": [{"sha": c["parent"]}] if c["parent"] else []}

    # ----- auth -----

    def verify_jwt(self, raw: str):
        """The claims GitHub checks on an App JWT, or raises with the reason."""
        # Times are checked by hand: GitHub allows iat a minute in the
        # future (issuers backdate it for skew) and at most ten minutes of life.
        claims = jwt.decode(raw, self.public_key, algorithms=["RS256"],
                            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                     "verify_aud": False, "verify_iss": False, "verify_sub": False,
                                     "verify_jti": False})
        iat, exp, now = claims.get("iat"), claims.get("exp"), time.time()
        if str(claims.get("iss")) != str(self.app_id):
            raise ValueError(f"iss {claims.get('iss')!r} is not app {self.app_id}")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (iat, exp)):
            raise ValueError("iat and exp must be numbers")
        if exp <= now:
            raise ValueError("expired")
        if iat > now + 60:
            raise ValueError("iat too far in the future")
        if exp - iat > 660:
            raise ValueError("lifetime over 10 minutes")
        return claims

    def classify_auth(self, ctx: Ctx, header):
        if not header:
            return
        scheme, _, cred = header.strip().partition(" ")
        cred = cred.strip()
        if scheme.lower() not in ("bearer", "token") or not cred:
            ctx.auth = "invalid"
            return
        if cred.startswith("ghs_"):
            rec = self.state.tokens.get(cred)
            inst = rec and self.state.installations.get(rec["installation_id"])
            if rec and not rec["revoked"] and rec["expires"] > time.time() and inst and not inst["deleted"]:
                ctx.auth, ctx.token, ctx.installation_id = "token", rec, rec["installation_id"]
            else:
                ctx.auth = "invalid"
            return
        try:
            self.verify_jwt(cred)
            ctx.auth = "app_jwt"
        except Exception as e:  # any decode or claim failure is the same 401 to the client
            print(f"fake_github: rejected JWT: {e}", file=sys.stderr, flush=True)
            ctx.auth = "invalid"

    def require_jwt(self, ctx):
        if ctx.auth != "app_jwt":
            raise ApiError(401, "A JSON web token could not be decoded")

    def require_token(self, ctx):
        if ctx.auth == "none":
            raise ApiError(401, "Requires authentication")
        if ctx.auth != "token":
            raise ApiError(401, "Bad credentials")
        inst = self.state.installations[ctx.installation_id]
        if inst["suspended_at"]:
            raise ApiError(403, "This installation has been suspended")
        if self.state.rate_limit_reset is not None:
            ctx.rate_limited = True
            raise ApiError(403, f"API rate limit exceeded for installation ID {ctx.installation_id}.")
        self.state.remaining = max(0, self.state.remaining - 1)

    def token_repos(self, ctx):
        # A repository removed from the installation leaves live tokens too.
        inst = self.state.installations[ctx.installation_id]
        return [r for r in ctx.token["repositories"] if r in inst["repositories"]]

    def has_perm(self, ctx, perm, level="read"):
        if perm == "metadata" and level == "read":
            return True
        return LEVELS.get(ctx.token["permissions"].get(perm), 0) >= LEVELS[level]

    def need(self, ctx, perm, level="read"):
        if not self.has_perm(ctx, perm, level):
            raise ApiError(403, "Resource not accessible by integration")

    def repo(self, ctx, owner, name, perm="metadata", level="read") -> Repo:
        full = f"{unquote(owner)}/{unquote(name)}"
        match = next((r for r in self.token_repos(ctx) if r.lower() == full.lower()), None)
        if match is None or match not in self.state.repos:
            raise not_found()
        self.need(ctx, perm, level)
        return self.state.repos[match]

    # ----- App (JWT) endpoints -----

    def get_app(self, ctx, q, body):
        return 200, {"id": self.app_id, "slug": self.slug, "name": self.slug, "node_id": f"A_fake{self.app_id}",
                     "owner": {"login": "acme-corp", "id": 501, "type": "Organization"},
                     "html_url": f"{self.web}/apps/{self.slug}", "permissions": dict(SEED_PERMISSIONS),
                     "events": ["installation_repositories", "issues"]}

    def our_installation(self, ctx, iid):
        ctx.installation_id = int(iid)
        inst = self.state.installations.get(int(iid))
        # Another App's installation is invisible to our JWT: 404, as on GitHub.
        if not inst or inst["deleted"] or inst["app_id"] != self.app_id:
            raise not_found()
        return inst

    def get_installation(self, ctx, q, body, iid):
        return 200, self.installation_json(self.our_installation(ctx, iid))

    def create_token(self, ctx, q, body, iid):
        inst = self.our_installation(ctx, iid)
        if inst["suspended_at"]:
            raise ApiError(403, "This installation has been suspended")
        req_repos, req_ids, req_perms = body.get("repositories"), body.get("repository_ids"), body.get("permissions")
        if not isinstance(req_repos or [], list) or not isinstance(req_ids or [], list):
            raise validation_failed("Installation", "repositories", "invalid")
        repos = list(inst["repositories"])
        if req_repos or req_ids:
            wanted, by_name = [], {r.split("/")[1].lower(): r for r in inst["repositories"]}
            by_id = {self.state.repos[r].id: r for r in inst["repositories"]}
            for name in req_repos or []:
                wanted.append(by_name.get(str(name).lower()))
            for rid in req_ids or []:
                wanted.append(by_id.get(rid))
            if None in wanted:
                raise ApiError(422, "There is at least one repository that does not exist or is not accessible to the parent installation.")
            repos = sorted(set(wanted))
        perms = dict(inst["permissions"])
        if req_perms:
            if not isinstance(req_perms, dict):
                raise ApiError(422, "The permissions requested are not granted to this installation.")
            for name, level in req_perms.items():
                if level not in LEVELS or LEVELS.get(inst["permissions"].get(name), 0) < LEVELS[level]:
                    raise ApiError(422, "The permissions requested are not granted to this installation.")
            perms = dict(req_perms)
        token = "ghs_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))
        expires = time.time() + TOKEN_TTL
        self.state.tokens[token] = {"installation_id": inst["id"], "repositories": sorted(repos), "permissions": perms,
                                    "expires": expires, "revoked": False}
        self.state.token_log.append({"installation_id": inst["id"], "repositories": sorted(repos), "permissions": perms,
                                     "requested_repositories": req_repos, "requested_permissions": req_perms})
        return 201, {"token": token, "expires_at": iso(expires), "permissions": perms,
                     "repository_selection": "selected" if (req_repos or req_ids) else inst["repository_selection"],
                     "repositories": [self.repo_json(self.state.repos[r]) for r in sorted(repos)]}

    # ----- installation token endpoints -----

    @staticmethod
    def int_param(q, name, default):
        try:
            return int(q.get(name, [default])[0])
        except ValueError:
            return default

    def paginate(self, ctx, items, q):
        per_page = max(1, min(100, self.int_param(q, "per_page", 30)))
        page = max(1, self.int_param(q, "page", 1))
        last = max(1, -(-len(items) // per_page))
        if page < last:
            # GitHub's Link header, keeping the other query parameters.
            keep = [(k, v) for k, vs in q.items() if k not in ("page", "per_page") for v in vs]
            link = lambda n: f"<{ctx.url}?{urlencode(keep + [('per_page', per_page), ('page', n)])}>"
            ctx.headers.append(("Link", f'{link(page + 1)}; rel="next", {link(last)}; rel="last"'))
        return items[(page - 1) * per_page: page * per_page]

    def installation_repos(self, ctx, q, body):
        repos = [self.repo_json(self.state.repos[r]) for r in self.token_repos(ctx)]
        inst = self.state.installations[ctx.installation_id]
        return 200, {"total_count": len(repos), "repository_selection": inst["repository_selection"],
                     "repositories": self.paginate(ctx, repos, q)}

    def revoke_token(self, ctx, q, body):
        ctx.token["revoked"] = True
        return 204, None

    def get_repo(self, ctx, q, body, owner, repo):
        return 200, self.repo_json(self.repo(ctx, owner, repo))

    def resolve_ref(self, repo: Repo, ref):
        """(commit sha, name for URLs) of a branch or commit; 404 if neither."""
        ref = ref or repo.default_branch
        name = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ref
        if name in repo.branches:
            return repo.branches[name], name
        if ref in repo.commits:
            return ref, ref
        raise ApiError(404, f"No commit found for the ref {ref}")

    def get_contents(self, ctx, q, body, owner, repo, path=None):
        r = self.repo(ctx, owner, repo, "contents")
        sha, ref = self.resolve_ref(r, q.get("ref", [None])[0])
        files = r.commits[sha]["files"]
        path = unquote(path or "").strip("/")
        if path in files:
            data = files[path]
            return 200, {"type": "file", "name": path.rsplit("/", 1)[-1], "path": path, "sha": blob_sha(data),
                         "size": len(data), "encoding": "base64", "content": b64_lines(data),
                         "html_url": f"{self.web}/{r.full_name}/blob/{ref}/{path}",
                         "url": f"{self.api_base}/repos/{r.full_name}/contents/{path}?ref={ref}"}
        prefix = path + "/" if path else ""
        entries = {}
        for p, data in files.items():
            if p.startswith(prefix):
                head, sep, _ = p[len(prefix):].partition("/")
                if sep:
                    entries[head] = {"type": "dir", "name": head, "path": prefix + head, "size": 0,
                                     "sha": fake_sha(sha, prefix + head)}
                else:
                    entries[head] = {"type": "file", "name": head, "path": p, "size": len(data), "sha": blob_sha(data)}
        if not entries:
            raise not_found()
        for e in entries.values():
            e["html_url"] = f"{self.web}/{r.full_name}/{'blob' if e['type'] == 'file' else 'tree'}/{ref}/{e['path']}"
        return 200, [entries[k] for k in sorted(entries)]

    def put_contents(self, ctx, q, body, owner, repo, path):
        r = self.repo(ctx, owner, repo, "contents", "write")
        path = unquote(path).strip("/")
        branch = body.get("branch") or r.default_branch
        if branch not in r.branches:
            raise ApiError(404, f"Branch {branch} not found")
        for field in ("message", "content"):
            if not isinstance(body.get(field), str):
                raise ApiError(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')
        try:
            data = base64.b64decode("".join(body["content"].split()), validate=True)
        except ValueError:
            raise ApiError(422, "content is not valid Base64")
        files = r.files(branch)
        created = path not in files
        if not created:
            current = blob_sha(files[path])
            if not body.get("sha"):
                raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
            if body["sha"] != current:
                raise ApiError(409, f"{path} does not match {body['sha']}")
        author = {"name": f"{self.slug}[bot]", "email": f"{self.app_id}+{self.slug}[bot]@users.noreply.github.com",
                  "login": f"{self.slug}[bot]"}
        sha = r.add_commit(r.branches[branch], body["message"], dict(files, **{path: data}), author=author)
        r.branches[branch] = sha
        return (201 if created else 200), {
            "content": {"type": "file", "name": path.rsplit("/", 1)[-1], "path": path, "sha": blob_sha(data),
                        "size": len(data), "html_url": f"{self.web}/{r.full_name}/blob/{branch}/{path}"},
            "commit": {"sha": sha, "html_url": f"{self.web}/{r.full_name}/commit/{sha}", "message": body["message"]}}

    def search_code(self, ctx, q, body):
        query = q.get("q", [""])[0]
        terms, repos, owners, path_prefix = [], [], [], None
        for quoted, word in re.findall(r'"([^"]*)"|(\S+)', query):
            key, sep, value = word.partition(":")
            if quoted:
                terms.append(quoted)
            elif sep and key.lower() == "repo":
                repos.append(value)
            elif sep and key.lower() in ("org", "user"):
                owners.append(value.lower())
            elif sep and key.lower() == "path":
                path_prefix = value.strip("/")
            elif sep and key.lower() in ("in", "language", "extension", "filename", "size", "fork"):
                continue  # accepted, not modelled
            else:
                terms.append(word)
        if not terms:
            raise validation_failed("Search", "q", "missing")
        visible = self.token_repos(ctx)
        lower = {r.lower(): r for r in visible}
        if any(r.lower() not in lower for r in repos):
            raise ApiError(422, "Validation Failed", errors=[{
                "message": "The listed users and repositories cannot be searched either because the resources do "
                           "not exist or you do not have permission to view them.",
                "resource": "Search", "field": "q", "code": "invalid"}])
        self.need(ctx, "contents")
        targets = [lower[r.lower()] for r in repos] if repos else visible
        targets = [t for t in targets if not owners or t.split("/")[0].lower() in owners]
        items = []
        for full in sorted(set(targets)):
            r = self.state.repos[full]
            for path, data in sorted(r.files(r.default_branch).items()):
                text = data.decode("utf-8", "replace").lower()
                if path_prefix and not path.startswith(path_prefix):
                    continue
                if all(t.lower() in text for t in terms):
                    items.append({"name": path.rsplit("/", 1)[-1], "path": path, "sha": blob_sha(data), "score": 1.0,
                                  "html_url": f"{self.web}/{full}/blob/{r.default_branch}/{path}",
                                  "url": f"{self.api_base}/repos/{full}/contents/{path}",
                                  "repository": self.repo_json(r)})
        return 200, {"total_count": len(items), "incomplete_results": False,
                     "items": self.paginate(ctx, items, q)}

    def item(self, r: Repo, n, pull=False):
        it = r.items.get(int(n))
        if not it or (pull and not it["pull"]):
            raise not_found()
        return it

    def by_state(self, ctx, r: Repo, q, pulls):
        want = q.get("state", ["open"])[0]
        items = [it for _, it in sorted(r.items.items(), reverse=True)
                 if (not pulls or it["pull"]) and (want == "all" or it["state"] == want)]
        return self.paginate(ctx, items, q)

    def list_issues(self, ctx, q, body, owner, repo):
        r = self.repo(ctx, owner, repo, "issues")
        return 200, [self.issue_json(r, it) for it in self.by_state(ctx, r, q, pulls=False)]

    def get_issue(self, ctx, q, body, owner, repo, n):
        r = self.repo(ctx, owner, repo, "issues")
        return 200, self.issue_json(r, self.item(r, n))

    def new_item(self, r: Repo, title, body_text, labels=()):
        number, r.next_number = r.next_number, r.next_number + 1
        r.items[number] = State.issue(number, title, "open", body_text, f"{self.slug}[bot]", labels, iso(time.time()))
        return r.items[number]

    def create_issue(self, ctx, q, body, owner, repo):
        r = self.repo(ctx, owner, repo, "issues", "write")
        if not isinstance(body.get("title"), str) or not body["title"]:
            raise validation_failed("Issue", "title", "missing_field")
        labels = [l["name"] if isinstance(l, dict) else str(l) for l in body.get("labels") or []]
        return 201, self.issue_json(r, self.new_item(r, body["title"], body.get("body"), labels))

    def create_comment(self, ctx, q, body, owner, repo, n):
        r = self.repo(ctx, owner, repo, "issues", "write")
        it = self.item(r, n)
        if not isinstance(body.get("body"), str) or not body["body"]:
            raise validation_failed("IssueComment", "body", "missing_field")
        self.state.comment_id += 1
        cid = self.state.comment_id
        it["comments"].append({"id": cid, "body": body["body"]})
        it["updated_at"] = iso(time.time())
        return 201, {"id": cid, "html_url": f"{self.item_url(r, it)}#issuecomment-{cid}", "body": body["body"],
                     "user": {"login": f"{self.slug}[bot]"}, "created_at": it["updated_at"]}

    def list_pulls(self, ctx, q, body, owner, repo):
        r = self.repo(ctx, owner, repo, "pull_requests")
        return 200, [self.pull_json(r, it) for it in self.by_state(ctx, r, q, pulls=True)]

    def get_pull(self, ctx, q, body, owner, repo, n):
        r = self.repo(ctx, owner, repo, "pull_requests")
        it = self.item(r, n, pull=True)
        if "diff" in ctx.accept:
            return 200, Raw(self.pull_diff(r, it)[0], DIFF_TYPE)
        return 200, self.pull_json(r, it)

    def create_pull(self, ctx, q, body, owner, repo):
        r = self.repo(ctx, owner, repo, "pull_requests", "write")
        if not isinstance(body.get("title"), str) or not body["title"]:
            raise validation_failed("PullRequest", "title", "missing_field")
        head = str(body.get("head") or "").split(":")[-1]
        base = str(body.get("base") or "")
        if head not in r.branches:
            raise validation_failed("PullRequest", "head", "invalid")
        if base not in r.branches:
            raise validation_failed("PullRequest", "base", "invalid")
        if any(it["pull"] and it["state"] == "open" and it["pull"]["head"] == head and it["pull"]["base"] == base
               for it in r.items.values()):
            raise ApiError(422, "Validation Failed", errors=[{
                "resource": "PullRequest", "code": "custom",
                "message": f"A pull request already exists for {r.owner}:{head}."}])
        it = self.new_item(r, body["title"], body.get("body"))
        it["pull"] = {"head": head, "base": base, "merged": False, "merged_at": None, "draft": bool(body.get("draft")),
                      "requested_reviewers": [], "frozen": None}
        return 201, self.pull_json(r, it)

    def request_reviewers(self, ctx, q, body, owner, repo, n):
        r = self.repo(ctx, owner, repo, "pull_requests", "write")
        it = self.item(r, n, pull=True)
        for login in body.get("reviewers") or []:
            if login not in it["pull"]["requested_reviewers"]:
                it["pull"]["requested_reviewers"].append(str(login))
        return 201, self.pull_json(r, it)

    def merge_pull(self, ctx, q, body, owner, repo, n):
        r = self.repo(ctx, owner, repo, "contents", "write")
        it = self.item(r, n, pull=True)
        pr = it["pull"]
        if pr["merged"] or it["state"] != "open" or pr["head"] not in r.branches:
            raise ApiError(405, "Pull Request is not mergeable")
        if body.get("sha") and body["sha"] != r.branches[pr["head"]]:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        pr["frozen"] = self.pull_diff(r, it)
        title = body.get("commit_title") or f"Merge pull request #{it['number']} from {r.owner}/{pr['head']}"
        # The head's files win: enough of a merge for a fake.
        sha = r.add_commit(r.branches[pr["base"]], title, dict(r.files(pr["base"]), **r.files(pr["head"])),
                           author={"name": f"{self.slug}[bot]", "email": "bot@users.noreply.github.com",
                                   "login": f"{self.slug}[bot]"})
        r.branches[pr["base"]] = sha
        pr["head_sha"] = r.branches[pr["head"]]
        pr["merged"], pr["merged_at"] = True, iso(time.time())
        it["state"], it["updated_at"] = "closed", pr["merged_at"]
        return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

    def list_commits(self, ctx, q, body, owner, repo):
        r = self.repo(ctx, owner, repo, "contents")
        sha, _ = self.resolve_ref(r, q.get("sha", [None])[0])
        out = []
        while sha:
            out.append(self.commit_json(r, r.commits[sha]))
            sha = r.commits[sha]["parent"]
        return 200, self.paginate(ctx, out, q)

    def get_ref(self, ctx, q, body, owner, repo, branch):
        r = self.repo(ctx, owner, repo, "contents")
        branch = unquote(branch)
        if branch not in r.branches:
            raise not_found()
        return 200, {"ref": f"refs/heads/{branch}", "url": f"{self.api_base}/repos/{r.full_name}/git/refs/heads/{branch}",
                     "object": {"sha": r.branches[branch], "type": "commit",
                                "url": f"{self.api_base}/repos/{r.full_name}/git/commits/{r.branches[branch]}"}}

    def create_ref(self, ctx, q, body, owner, repo):
        r = self.repo(ctx, owner, repo, "contents", "write")
        ref, sha = body.get("ref"), body.get("sha")
        if not isinstance(ref, str) or not isinstance(sha, str):
            raise ApiError(422, 'Invalid request.\n\n"ref", "sha" weren\'t supplied.')
        if not ref.startswith("refs/heads/") or len(ref) == len("refs/heads/"):
            raise ApiError(422, "Reference name is invalid")
        name = ref[len("refs/heads/"):]
        if name in r.branches:
            raise ApiError(422, "Reference already exists")
        if sha not in r.commits:
            raise ApiError(422, "Object does not exist")
        # A branch is just a name for a commit, so its files are that commit's.
        r.branches[name] = sha
        return 201, {"ref": ref, "url": f"{self.api_base}/repos/{r.full_name}/git/{ref}",
                     "object": {"sha": sha, "type": "commit"}}

    def get_run(self, ctx, q, body, owner, repo, run):
        r = self.repo(ctx, owner, repo, "actions")
        data = r.runs.get(int(run))
        if not data:
            raise not_found()
        return 200, dict(data, html_url=f"{self.web}/{r.full_name}/actions/runs/{data['id']}",
                         repository={"full_name": r.full_name})

    # ----- dispatch -----

    def api(self, method, path, query, headers, raw_body) -> Response:
        with self.lock:
            st = self.state
            self.request_counter += 1
            request_id = f"FAKE:{self.request_counter:04d}:{secrets.token_hex(2).upper()}"
            ctx = Ctx()
            ctx.accept = (headers.get("Accept") or "").lower()
            ctx.url = self.web + path
            body, bad_json = None, False
            if raw_body:
                try:
                    body = json.loads(raw_body)
                except ValueError:
                    bad_json = True
            self.classify_auth(ctx, headers.get("Authorization"))
            sub = path[len("/api/v3"):] or "/"
            if len(sub) > 1:
                sub = sub.rstrip("/")
            try:
                for m, pattern, fn, kind in self.routes:
                    match = pattern.match(sub)
                    if match and m == method:
                        break
                else:
                    raise not_found()
                if "iid" in match.groupdict():  # logged even when the JWT is refused
                    ctx.installation_id = int(match.group("iid"))
                if bad_json:
                    raise ApiError(400, "Problems parsing JSON")
                if kind == "jwt":
                    self.require_jwt(ctx)
                else:
                    self.require_token(ctx)
                status, payload = fn(ctx, parse_qs(query), body if isinstance(body, dict) else {}, **match.groupdict())
            except ApiError as e:
                status, payload = e.status, e.payload
                ctx.headers += e.headers
            if isinstance(payload, Raw):
                data, ctype = payload.data, payload.content_type
            elif payload is None:
                data, ctype = b"", JSON_TYPE
            else:
                data, ctype = json.dumps(payload, indent=2).encode(), JSON_TYPE
            if ctx.rate_limited:
                remaining, reset = 0, int(st.rate_limit_reset)
            else:
                remaining, reset = st.remaining, st.window_reset
            out_headers = [("X-GitHub-Request-Id", request_id), ("X-GitHub-Media-Type", "github.v3; format=json"),
                           ("x-ratelimit-limit", str(RATE_LIMIT)), ("x-ratelimit-remaining", str(remaining)),
                           ("x-ratelimit-reset", str(reset)), ("x-ratelimit-used", str(RATE_LIMIT - remaining)),
                           ("x-ratelimit-resource", "core")] + ctx.headers
            st.requests.append({"method": method, "path": path, "query": query, "auth": ctx.auth,
                                "installation_id": ctx.installation_id, "body": body, "status": status})
            return Response(status, data, ctype, out_headers)

    def control(self, method, path, raw_body):
        """Test hooks. Returns (status, JSON payload)."""
        try:
            body = json.loads(raw_body) if raw_body else {}
        except ValueError:
            return 400, {"message": "Problems parsing JSON"}
        body = body if isinstance(body, dict) else {}
        with self.lock:
            st = self.state
            if method == "GET" and path == "/_fake/requests":
                return 200, st.requests
            if method == "GET" and path == "/_fake/tokens":
                return 200, st.token_log
            if method == "POST" and path == "/_fake/reset":
                self.state = State(self.app_id)  # the key and setup URL are configuration, kept
                return 200, {"ok": True}
            if method == "POST" and path == "/_fake/setup_url":
                self.setup_url = body.get("url") or None
                return 200, {"ok": True, "url": self.setup_url}
            if method == "POST" and path == "/_fake/rate_limit":
                reset = body.get("reset")
                st.rate_limit_reset = int(reset) if reset is not None else None
                return 200, {"ok": True, "reset": st.rate_limit_reset}
            m = re.fullmatch(r"/_fake/installations/(\d+)", path)
            if method == "POST" and m:
                inst = st.installations.get(int(m.group(1)))
                if not inst:
                    return 404, {"message": "Not Found"}
                if "repositories" in body:
                    unknown = [r for r in body["repositories"] if r not in st.repos]
                    if unknown:
                        return 422, {"message": f"unknown repositories: {unknown}"}
                    inst["repositories"] = list(body["repositories"])
                if "suspended" in body:
                    inst["suspended_at"] = iso(time.time()) if body["suspended"] else None
                if "deleted" in body:
                    inst["deleted"] = bool(body["deleted"])
                return 200, dict(self.installation_json(inst), repositories=inst["repositories"], deleted=inst["deleted"])
            return 404, {"message": "Not Found"}

    def web_page(self, method, path, query):
        """The App's install page, the only web page modelled. Returns (status, html)."""
        m = re.fullmatch(r"/apps/([^/]+)/installations/new/?", path)
        if method != "GET" or not m or unquote(m.group(1)) != self.slug:
            return 404, "<!doctype html><html lang=\"en\"><title>Page not found</title><h1>404</h1></html>"
        with self.lock:
            if not self.setup_url:
                return 503, ("<!doctype html><html lang=\"en\"><title>No setup URL</title><p>fake_github: no setup URL "
                             "configured (pass --setup-url or POST /_fake/setup_url).</p></html>")
            state = parse_qs(query).get("state", [None])[0]
            links = []
            for inst in sorted(self.state.installations.values(), key=lambda i: i["id"]):
                # A deleted installation is still listed: the account stays installable.
                if inst["app_id"] != self.app_id:
                    continue
                params = {"installation_id": inst["id"], "setup_action": "install"}
                if state is not None:
                    params["state"] = state
                sep = "&" if "?" in self.setup_url else "?"
                href = self.setup_url + sep + urlencode(params, quote_via=quote, safe="")
                login = inst["account"]["login"]
                links.append(f'      <li><a href="{html.escape(href)}">Install on {html.escape(login)}</a></li>')
            name = html.escape(self.slug)
        return 200, (f"<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Install {name}</title></head>\n"
                     f"<body>\n  <main>\n    <h1>Install {name}</h1>\n"
                     f"    <p>Where do you want to install {name}?</p>\n    <ul>\n" + "\n".join(links) +
                     "\n    </ul>\n  </main>\n</body>\n</html>\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as HTTP clients expect
    server_version = "FakeGitHub/1.0"

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        fake: FakeGitHub = self.server.fake
        split = urlsplit(self.path)
        raw = self.read_body()
        try:
            if split.path.startswith("/_fake/"):
                status, payload = fake.control(self.command, split.path, raw)
                resp = Response(status, json.dumps(payload, indent=2).encode(), JSON_TYPE)
            elif split.path == "/api/v3" or split.path.startswith("/api/v3/"):
                resp = fake.api(self.command, split.path, split.query, self.headers, raw)
            else:
                status, page = fake.web_page(self.command, split.path, split.query)
                resp = Response(status, page.encode(), "text/html; charset=utf-8")
        except Exception as e:  # a bug in the fake must show, not hang the client
            print(f"fake_github: error on {self.command} {self.path}: {e!r}", file=sys.stderr, flush=True)
            import traceback
            traceback.print_exc()
            resp = Response(500, json.dumps({"message": f"fake_github error: {e!r}"}).encode(), JSON_TYPE)
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.data)))
        for k, v in resp.headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--app-id", type=int, required=True)
    parser.add_argument("--slug", required=True)
    parser.add_argument("--key-out", required=True, help="where to write the App's private key (PKCS#1 PEM)")
    parser.add_argument("--setup-url", default=None, help="the App's setup URL (the install page links to it)")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    args = parser.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    # Owner-only, like any private key on disk.
    with open(os.open(args.key_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(pem)

    fake = FakeGitHub(args.app_id, args.slug, key.public_key(), args.setup_url)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.fake, server.verbose = fake, args.verbose
    fake.port = server.server_address[1]
    print(f"ready {fake.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
