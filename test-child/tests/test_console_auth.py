"""Signing in to the console: GitHub's OAuth web flow against a fake GitHub over real HTTP (laid out
like GitHub Enterprise Server), the permission lookup with the runtime's credentials, and the
signed cookies."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from osorganicai.console import auth
from osorganicai.console.app import create_console_app
from osorganicai.db import Store
from osorganicai.service import Service

from .console_support import CLIENT_ID, CONSOLE_BASE, FakeGitHubWeb, console_client, console_settings, seed_story

SECRET = b"k" * 40


# -- signed values -------------------------------------------------------------------------------------------
def test_a_signed_value_reads_back_until_it_expires() -> None:
    token = auth.sign({"login": "octocat"}, secret=SECRET, purpose="session", lifetime_seconds=60, now=1000)
    assert auth.unsign(token, secret=SECRET, purpose="session", now=1059)["login"] == "octocat"
    assert auth.unsign(token, secret=SECRET, purpose="session", now=1060) is None  # expired
    assert auth.unsign(token, secret=SECRET, purpose="state", now=1000) is None  # another purpose
    assert auth.unsign(token, secret=b"x" * 40, purpose="session", now=1000) is None  # another key
    body, signature = token.split(".")
    forged = auth.sign({"login": "admin"}, secret=b"x" * 40, purpose="session", lifetime_seconds=60, now=1000).split(".")[0]
    assert auth.unsign(f"{forged}.{signature}", secret=SECRET, purpose="session", now=1000) is None
    for broken in ("", "a.b.c", "no-dot", f"{body}.", "!!!.???"):
        assert auth.unsign(broken, secret=SECRET, purpose="session", now=1000) is None


def test_a_session_carries_login_role_csrf_and_an_eight_hour_expiry() -> None:
    session = auth.Session.start("octocat", auth.ACT, now=1000)
    assert session.expires == 1000 + 8 * 3600 and len(session.csrf) >= 32
    again = auth.Session.from_cookie(session.cookie_value(SECRET, now=1000), SECRET, now=2000)
    assert again == session and again.may_act
    assert auth.Session.from_cookie(session.cookie_value(SECRET, now=1000), SECRET, now=1000 + 8 * 3600) is None
    assert session.csrf_matches(session.csrf) and not session.csrf_matches(None) and not session.csrf_matches("x")


@pytest.mark.parametrize(
    ("permission", "role"),
    [
        ("admin", auth.ACT),
        ("maintain", auth.ACT),
        ("write", auth.ACT),
        ("triage", auth.VIEW),
        ("read", auth.VIEW),
        ("none", None),
        (None, None),
    ],
)
def test_the_role_follows_the_permission_on_the_repository(permission: str | None, role: str | None) -> None:
    assert auth.role_for_permission(permission) == role


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/console/issues/8", "/console/issues/8"),
        ("https://evil.example/console", "/console"),
        ("//evil.example/console", "/console"),
        ("/console\\..\\evil", "/console"),
        ("/api/webhooks", "/console"),
        (None, "/console"),
    ],
)
def test_after_sign_in_only_console_paths_are_followed(asked: str | None, kept: str) -> None:
    assert auth.safe_next(asked) == kept


# -- the web flow against the fake -------------------------------------------------------------------------
@pytest.fixture
def github() -> Iterator[tuple[FakeGitHubWeb, str]]:
    fake = FakeGitHubWeb()
    with fake.serve() as url:
        yield fake, url


@pytest.fixture
def console(database: str, store: Store, github):
    _fake, url = github
    service = Service(settings=console_settings(database, url), store=store)
    with console_client(create_console_app(service)) as client:
        yield client


def start_sign_in(console, next_path: str = "/console/issues/8") -> tuple[str, dict[str, str]]:
    """Follow /console/login to GitHub's authorize URL; (that URL, its query)."""
    response = console.get("/console/login", params={"next": next_path})
    assert response.status_code == 302
    location = response.headers["location"]
    return location, {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def sets_session(response: httpx.Response) -> bool:
    return any(value.startswith(auth.SESSION_COOKIE + "=") for value in response.headers.get_list("set-cookie"))


def approve_at_github(location: str) -> str:
    """What the browser does at GitHub: the fake approves and sends it back to the callback."""
    answer = httpx.get(location, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    callback = answer.headers["location"]
    assert callback.startswith(CONSOLE_BASE + "/console/auth/callback?")
    return callback[len(CONSOLE_BASE) :]


def test_login_sends_the_browser_to_github_with_state_and_no_scope(console, github) -> None:
    _fake, url = github
    location, query = start_sign_in(console)
    assert location.startswith(f"{url}/login/oauth/authorize?")
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{CONSOLE_BASE}/console/auth/callback"
    assert len(query["state"]) >= 32 and "scope" not in query
    set_cookie = console.get("/console/login").headers["set-cookie"]
    assert auth.STATE_COOKIE in set_cookie and "HttpOnly" in set_cookie and "Secure" in set_cookie
    assert "SameSite=lax" in set_cookie.replace("Lax", "lax") and "Max-Age=600" in set_cookie
    assert start_sign_in(console)[1]["state"] != query["state"]  # a fresh state every time


def test_a_writer_signs_in_through_github_and_may_act(console, github, store: Store) -> None:
    fake, _url = github
    seed_story(store)
    fake.signed_in_as, fake.permissions["mona"] = "mona", "maintain"
    assert console.get("/console/issues/8").headers["location"] == "/console/login?next=%2Fconsole%2Fissues%2F8"
    location, _query = start_sign_in(console)
    done = console.get(approve_at_github(location))
    assert done.status_code == 303 and done.headers["location"] == "/console/issues/8"
    cookie = next(value for value in done.headers.get_list("set-cookie") if value.startswith(auth.SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "Max-Age=28800" in cookie
    assert ("POST", "/login/oauth/access_token") in fake.requests and ("GET", "/api/v3/user") in fake.requests
    assert ("GET", "/api/v3/repos/Codertocat/Hello-World/collaborators/mona/permission") in fake.requests
    page = console.get("/console/issues/8")
    assert page.status_code == 200 and "mona · write access" in page.text and "Pause agents" in page.text


def test_a_reader_signs_in_and_sees_but_gets_no_buttons(console, github, store: Store) -> None:
    fake, _url = github
    seed_story(store)
    fake.signed_in_as, fake.permissions["reader"] = "reader", "read"
    location, _query = start_sign_in(console, "/console")
    assert console.get(approve_at_github(location)).status_code == 303
    page = console.get("/console")
    assert page.status_code == 200 and "reader · read access" in page.text and "Pause agents" not in page.text


def test_a_callback_whose_state_does_not_match_is_refused_without_a_session(console, github) -> None:
    fake, _url = github
    fake.signed_in_as, fake.permissions["mona"] = "mona", "admin"
    location, _query = start_sign_in(console)
    callback = approve_at_github(location)
    tampered = callback.replace("state=", "state=x")
    refused = console.get(tampered)
    assert refused.status_code == 403 and "state mismatch" in refused.text
    assert not sets_session(refused)
    assert console.get("/console").status_code == 303
    # a callback with no state cookie at all (another browser started the sign-in) is refused too
    console.cookies.clear()
    assert console.get(callback).status_code == 403
    assert ("POST", "/login/oauth/access_token") not in fake.requests  # the code was never exchanged


def test_someone_without_access_to_the_repository_is_refused(console, github) -> None:
    fake, _url = github
    fake.signed_in_as = "stranger"
    location, _query = start_sign_in(console)
    refused = console.get(approve_at_github(location))
    assert refused.status_code == 403 and "stranger has no access to Codertocat/Hello-World" in refused.text
    assert not sets_session(refused)


def test_a_code_github_refuses_ends_sign_in_with_githubs_reason(console, github) -> None:
    fake, _url = github
    fake.signed_in_as, fake.permissions["mona"] = "mona", "write"
    location, _query = start_sign_in(console)
    callback = approve_at_github(location)
    fake.codes.clear()  # the code expired
    failed = console.get(callback)
    assert failed.status_code == 502 and "The code passed is incorrect or expired." in failed.text
    assert not sets_session(failed)


def test_a_wrong_client_secret_is_reported_without_a_session(database: str, store: Store, github) -> None:
    fake, url = github
    fake.signed_in_as, fake.permissions["mona"] = "mona", "write"
    settings = console_settings(database, url, GITHUB_OAUTH_CLIENT_SECRET="not-the-secret")
    with console_client(create_console_app(Service(settings=settings, store=store))) as client:
        location, _query = start_sign_in(client)
        failed = client.get(approve_at_github(location))
    assert failed.status_code == 502 and "client_secret passed are incorrect" in failed.text


def test_github_declining_the_sign_in_is_reported(console) -> None:
    _location, query = start_sign_in(console)
    declined = console.get(
        "/console/auth/callback",
        params={
            "state": query["state"],
            "error": "access_denied",
            "error_description": "The user has denied your application access.",
        },
    )
    assert declined.status_code == 403 and "denied your application access" in declined.text


def test_an_unreachable_github_fails_sign_in_clearly(database: str, store: Store) -> None:
    settings = console_settings(database, "http://127.0.0.1:9")
    with console_client(create_console_app(Service(settings=settings, store=store))) as client:
        _location, query = start_sign_in(client)
        failed = client.get("/console/auth/callback", params={"state": query["state"], "code": "abc"})
    assert failed.status_code == 502 and "could not be reached" in failed.text


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ({"CONSOLE_SESSION_SECRET": ""}, "CONSOLE_SESSION_SECRET"),
        ({"CONSOLE_SESSION_SECRET": "short"}, "at least 32 characters"),
        ({"GITHUB_OAUTH_CLIENT_ID": ""}, "GITHUB_OAUTH_CLIENT_ID"),
    ],
)
def test_a_console_without_its_settings_says_which_and_shows_nothing(
    database: str, store: Store, missing: dict[str, str], named: str
) -> None:
    seed_story(store)
    settings = console_settings(database, **missing)
    with console_client(create_console_app(Service(settings=settings, store=store))) as client:
        for path in ("/console/login", "/console"):
            response = client.get(path)
            if "CLIENT_ID" in named and path == "/console":
                assert response.status_code == 303  # pages need a session; sign-in says what is missing
                continue
            assert response.status_code == 503 and named in response.text
            assert "Gift cards" not in response.text
