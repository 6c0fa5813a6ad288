"""Our pages: who gets them, who is sent to the login page, and the static files."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import as_user


@pytest.mark.parametrize(
    ("path", "back_to"),
    [
        ("/", "%2F"),
        ("/studies/1.2.3", "%2Fstudies%2F1.2.3"),
        ("/admin", "%2Fadmin"),
        ("/viewer/viewer?StudyInstanceUIDs=1.2", "%2Fviewer%2Fviewer%3FStudyInstanceUIDs%3D1.2"),
        ("/static/worklist.js", "%2Fstatic%2Fworklist.js"),
    ],
)
def test_without_a_session_a_page_sends_the_browser_to_login_and_back(
    no_dist_client: TestClient, path: str, back_to: str
) -> None:
    """Typing a page's address while signed out lands on the login page, which returns there."""
    answer = no_dist_client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={back_to}"


def test_the_login_page_and_its_files_need_no_session(no_dist_client: TestClient) -> None:
    page = no_dist_client.get("/login")
    assert page.status_code == 200
    assert 'type="password"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name, kind in [("login.js", "text/javascript"), ("style.css", "text/css")]:
        asset = no_dist_client.get(f"/static/public/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(kind)


def test_a_signed_in_reader_gets_the_worklist_and_the_report_editor(
    no_dist_client: TestClient,
) -> None:
    worklist = no_dist_client.get("/", headers=as_user("viewer"))
    assert worklist.status_code == 200
    assert '<table id="worklist"' in worklist.text
    assert worklist.headers["x-content-type-options"] == "nosniff"
    study = no_dist_client.get("/studies/1.2.840.99", headers=as_user("radiologist"))
    assert study.status_code == 200
    assert 'id="report-text"' in study.text
    script = no_dist_client.get("/static/study.js", headers=as_user("viewer"))
    assert script.status_code == 200
    assert "/feedback" in script.text


def test_the_admin_page_is_for_admins_and_says_so_to_others(no_dist_client: TestClient) -> None:
    assert no_dist_client.get("/admin", headers=as_user("admin")).status_code == 200
    refused = no_dist_client.get("/admin", headers=as_user("radiologist"))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "Not allowed" in refused.text
    assert "radiologist may not read-audit" in refused.text


@pytest.mark.parametrize("name", ["../pages.py", "..%2Fpages.py", "nothing.js", "worklist.html"])
def test_static_serves_only_the_files_it_has(no_dist_client: TestClient, name: str) -> None:
    """No path outside the folder, no page by its file name (pages have their own paths)."""
    answer = no_dist_client.get(f"/static/{name}", headers=as_user())
    assert answer.status_code == 404


def test_every_page_loads_only_scripts_and_styles_that_exist(no_dist_client: TestClient) -> None:
    """A page's <script src> or <link href> that is not served would leave a blank page."""
    import re

    signed_in = as_user("admin")
    for page in ["/login", "/", "/studies/1.2.3", "/admin"]:
        text = no_dist_client.get(page, headers=signed_in).text
        for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', text):
            assert no_dist_client.get(url, headers=signed_in).status_code == 200, (page, url)
        for module in re.findall(r'src="(/static/[^"]+\.js)"', text):
            source = no_dist_client.get(module, headers=signed_in).text
            for imported in re.findall(r'from "(/static/[^"]+)"', source):
                assert no_dist_client.get(imported, headers=signed_in).status_code == 200


def test_every_script_parses_as_a_javascript_module() -> None:
    """A syntax error in one module leaves its page blank: Node.js parses each one."""
    import shutil
    import subprocess

    from vesalius.service.web.pages import STATIC_DIR

    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js not installed")
    scripts = sorted(STATIC_DIR.rglob("*.js"))
    assert len(scripts) >= 6
    for script in scripts:
        checked = subprocess.run(
            [node, "--experimental-default-type=module", "--check", str(script)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stderr


def test_a_next_page_on_another_site_is_never_followed_after_login() -> None:
    """A crafted login link sending a signed-in user to a look-alike site."""
    from vesalius.service.web.guard import safe_next

    for target in ("//evil.example", "/\t/evil.example", "/\n/evil.example", "/\\evil.example"):
        assert safe_next(target) is None
    assert safe_next("/studies/1.2.3?x=1") == "/studies/1.2.3?x=1"
