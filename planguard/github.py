"""GitHub's REST API, the little of it planguard needs: the sticky pull request
comment, and the reviews, commits and permissions behind the two-person rule.

Plain urllib (no extra dependency). Requests go only to the API base URL the
runner gives (GITHUB_API_URL): pagination links and redirects that point
anywhere else are refused, so the token never leaves it.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO, Any

from planguard.errors import PlanguardError
from planguard.findings import matches

API_VERSION = "2022-11-28"
# The same string as planguard.report.markdown.MARKER: it finds planguard's comments.
MARKER = "<!-- planguard-report -->"
_KEY_LINE = "<!-- planguard-key: {key} -->"
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
# Review states that change whether a reviewer approves; COMMENTED and PENDING do not.
_DECISIVE = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
_MAX_PAGES = 100  # 10,000 comments or reviews: far beyond any real pull request
# GitHub lists no more than 250 commits of a pull request, silently.
_MAX_COMMITS = 250
# The identity GITHUB_TOKEN comments as; an App token comments as its own `name[bot]`.
COMMENT_LOGIN = "github-actions[bot]"
_ROLES = frozenset({"admin", "maintain", "write", "triage", "read", "none"})
# Roles that could merge the change themselves: only their approval is a second person's.
_MAY_APPROVE = frozenset({"admin", "maintain", "write"})


class GitHubError(PlanguardError):
    """A GitHub API request failed; `status` is the HTTP status (0: no answer)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        raise GitHubError(code, f"GitHub API redirected {req.get_method()} to another URL")


class GitHub:
    """A client for one repository, authenticated with a token."""

    def __init__(self, api_url: str, token: str, repository: str, timeout: float = 30) -> None:
        if not _REPOSITORY.match(repository):
            raise GitHubError(0, f"not an owner/name repository: {repository!r}")
        parts = urllib.parse.urlsplit(api_url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise GitHubError(0, f"not an API URL: {api_url!r}")
        self.base = api_url.rstrip("/")
        self.repo = f"{self.base}/repos/{repository}"
        self._token = token
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._roles: dict[str, str] = {}

    def _check_url(self, url: str) -> str:
        if url != self.base and not url.startswith(self.base + "/"):
            raise GitHubError(0, "GitHub API answered with a link outside GITHUB_API_URL")
        return url

    def request(self, method: str, url: str, body: Any = None) -> tuple[Any, str | None]:
        """One request; returns the decoded JSON (or None) and the next page's URL."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self._check_url(url), data=data, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("X-GitHub-Api-Version", API_VERSION)
        req.add_header("User-Agent", "planguard")
        req.add_unredirected_header("Authorization", f"Bearer {self._token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=self._timeout) as resp:
                raw = resp.read()
                link = resp.headers.get("Link")
        except urllib.error.HTTPError as exc:
            raise GitHubError(exc.code, f"{method} {_path(url)}: {_message(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GitHubError(0, f"{method} {_path(url)}: {reason}") from None
        match = _NEXT.search(link or "")
        try:
            doc = json.loads(raw) if raw.strip() else None
        except ValueError:
            raise GitHubError(0, f"{method} {_path(url)}: the answer is not JSON") from None
        return doc, (self._check_url(match.group(1)) if match else None)

    def paginate(self, url: str) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following `Link: rel="next"`."""
        next_url: str | None = f"{url}?per_page=100"
        for _ in range(_MAX_PAGES):
            if next_url is None:
                return
            page, next_url = self.request("GET", next_url)
            if not isinstance(page, list):
                raise GitHubError(0, f"GET {_path(url)}: expected a list")
            yield from (item for item in page if isinstance(item, dict))
        raise GitHubError(0, f"GET {_path(url)}: more than {_MAX_PAGES} pages")

    def comments(self, number: int) -> list[dict[str, Any]]:
        return list(self.paginate(f"{self.repo}/issues/{number}/comments"))

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        doc, _ = self.request("POST", f"{self.repo}/issues/{number}/comments", {"body": body})
        return doc or {}

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        doc, _ = self.request("PATCH", f"{self.repo}/issues/comments/{comment_id}", {"body": body})
        return doc or {}

    def delete_comment(self, comment_id: int) -> None:
        self.request("DELETE", f"{self.repo}/issues/comments/{comment_id}")

    def labels(self, number: int) -> list[str]:
        return [
            str(lb.get("name", "")) for lb in self.paginate(f"{self.repo}/issues/{number}/labels")
        ]

    def add_labels(self, number: int, names: list[str]) -> None:
        self.request("POST", f"{self.repo}/issues/{number}/labels", {"labels": names})

    def remove_label(self, number: int, name: str) -> None:
        label = urllib.parse.quote(name, safe="")
        self.request("DELETE", f"{self.repo}/issues/{number}/labels/{label}")

    def reviews(self, number: int) -> list[dict[str, Any]]:
        return list(self.paginate(f"{self.repo}/pulls/{number}/reviews"))

    def pull_commits(self, number: int) -> list[dict[str, Any]]:
        """Every commit of the pull request. GitHub lists at most 250: a longer pull
        request is an error, since its other commits' authors would go unseen."""
        commits = list(self.paginate(f"{self.repo}/pulls/{number}/commits"))
        if len(commits) >= _MAX_COMMITS:
            raise GitHubError(0, f"pull request #{number} has {_MAX_COMMITS} commits or more")
        return commits

    def permission(self, login: str) -> str:
        """`login`'s role on the repository (admin, maintain, write, triage, read or
        none), asked once per login."""
        key = login.lower()
        if key not in self._roles:
            url = f"{self.repo}/collaborators/{urllib.parse.quote(login, safe='')}/permission"
            doc, _ = self.request("GET", url)
            doc = doc if isinstance(doc, dict) else {}
            # A custom role's name says nothing; its base permission does.
            role = doc.get("role_name")
            role = role if role in _ROLES else doc.get("permission")
            if role not in _ROLES:
                raise GitHubError(0, f"GET {_path(url)}: no known permission in the answer")
            self._roles[key] = str(role)
        return self._roles[key]


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        doc = json.loads(exc.read() or b"{}")
    except ValueError:
        doc = {}
    text = doc.get("message") if isinstance(doc, dict) else None
    return f"HTTP {exc.code}" + (f" ({text})" if isinstance(text, str) else "")


# --- the sticky comment -------------------------------------------------------


def plan_set_key(plans: Iterable[str], directory: str = ".", explicit: str | None = None) -> str:
    """A short key naming one plan set, so each stack of a matrix gets its own comment.

    Hashed, so nothing a user writes ever lands inside the HTML comment."""
    text = explicit if explicit else "\n".join([directory, *sorted(plans)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def marker(key: str) -> str:
    return f"{MARKER}\n{_KEY_LINE.format(key=key)}\n"


def find_comment(
    comments: list[dict[str, Any]], key: str, login: str = COMMENT_LOGIN
) -> dict[str, Any] | None:
    """This plan set's comment, only ever one planguard's own identity wrote: anyone
    can copy the marker, and a report edited into their comment would be theirs to
    change. The latest wins, so a comment posted after a refused edit is the one kept."""
    line = _KEY_LINE.format(key=key)
    mine = [
        c
        for c in comments
        if line in str(c.get("body") or "")
        and isinstance(c.get("id"), int)
        and (c.get("user") or {}).get("type") == "Bot"
        and str((c.get("user") or {}).get("login") or "").lower() == login.lower()
    ]
    return mine[-1] if mine else None


# --- the two-person rule --------------------------------------------------------


def login_matches(pattern: str, login: str) -> bool:
    """`matches` for logins, which GitHub treats case-insensitively (addresses are not)."""
    return matches(pattern.casefold(), login.casefold())


def committers(commits: Iterable[dict[str, Any]]) -> set[str]:
    """The lower-cased logins of every commit's author and committer (when GitHub
    knows the account behind the e-mail address)."""
    return {
        str(person["login"]).lower()
        for commit in commits
        for person in (commit.get("author"), commit.get("committer"))
        if isinstance(person, dict) and person.get("login")
    }


def is_bot(user: dict[str, Any]) -> bool:
    login = str(user.get("login") or "")
    return user.get("type") == "Bot" or login.lower().endswith("[bot]")


@dataclass(frozen=True)
class Approvals:
    head_sha: str
    approved_by: tuple[str, ...]  # logins whose approval counts
    not_counted: tuple[tuple[str, str], ...]  # (login, why) for approvals that do not


def count_approvals(
    reviews: list[dict[str, Any]],
    head_sha: str,
    author: str,
    *,
    pushers: Collection[str] | None,
    permission: Callable[[str], str],
    automation: Iterable[str] = (),
) -> Approvals:
    """Approvals of the current head commit by a second person: someone with write
    access who is not the author, did not author or commit any of its commits
    (`pushers`; None: unknown, so no approval counts), and is no bot or automation.

    Each reviewer's latest decisive review wins: a later "changes requested" or a
    dismissal cancels an earlier approval; a plain comment does not. `permission`
    (the reviewer's role; GitHubError if unknown) is asked last, only for
    reviewers who pass everything else."""
    pushed = None if pushers is None else {p.lower() for p in pushers}
    patterns = tuple(automation)
    ordered = sorted(
        enumerate(reviews), key=lambda item: (str(item[1].get("submitted_at") or ""), item[0])
    )
    latest: dict[str, dict[str, Any]] = {}
    approved_once: set[str] = set()
    users: dict[str, dict[str, Any]] = {}
    for _, review in ordered:
        user = review.get("user")
        state = review.get("state")
        if not isinstance(user, dict) or not user.get("login") or state not in _DECISIVE:
            continue
        login = str(user["login"])
        key = login.lower()
        users[key] = user
        latest[key] = review
        if state == "APPROVED":
            approved_once.add(key)
    counted: list[str] = []
    skipped: list[tuple[str, str]] = []
    for key in sorted(approved_once):
        user, review = users[key], latest[key]
        login = str(user["login"])
        pattern = next((p for p in patterns if login_matches(p, login)), None)
        if key == author.lower():
            skipped.append((login, "the author cannot approve their own change"))
        elif is_bot(user):
            skipped.append((login, "bots do not count"))
        elif pattern is not None:
            shown = pattern.replace("`", "")
            skipped.append((login, f"matches the automation pattern `{shown}`"))
        elif review.get("state") != "APPROVED":
            skipped.append((login, f"latest review is {str(review['state']).lower()}"))
        elif review.get("commit_id") != head_sha:
            old = str(review.get("commit_id") or "?")[:7]
            skipped.append((login, f"approved an older commit ({old})"))
        elif pushed is None:
            skipped.append((login, "the pull request's commits could not be read"))
        elif key in pushed:
            skipped.append((login, "authored or committed a commit of this pull request"))
        else:
            try:
                role = permission(login)
            except GitHubError as exc:
                skipped.append((login, f"their permission could not be checked: {exc}"))
                continue
            if role in _MAY_APPROVE:
                counted.append(login)
            else:
                skipped.append((login, f"has {role} access; approvals need write or above"))
    return Approvals(head_sha, tuple(counted), tuple(skipped))
