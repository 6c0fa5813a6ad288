"""The OHIF viewer at /viewer/: its config, its files under a sub-path, and when it is missing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import as_user
from vesalius.service.web.ohif import default_dist, has_dist, rewrite_public_path


def _config(client: TestClient) -> dict[str, object]:
    answer = client.get("/viewer/app-config.js", headers=as_user("viewer"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    found = re.search(r"var config = (\{.*?\n\});", answer.text, re.S)
    assert found is not None, answer.text
    assert 'window.location.origin + "/dicom-web"' in answer.text
    return dict(json.loads(found.group(1)))


def test_app_config_points_ohif_at_our_dicomweb_on_the_same_origin(
    no_dist_client: TestClient,
) -> None:
    config = _config(no_dist_client)
    assert config["routerBasename"] == "/viewer"
    assert config["defaultDataSourceName"] == "dicomweb"
    [source] = config["dataSources"]  # type: ignore[misc]
    settings = source["configuration"]
    assert source["namespace"] == "@ohif/extension-default.dataSourcesModule.dicomweb"
    assert {k: settings[k] for k in ["staticWado", "thumbnailRendering", "imageRendering"]} == {
        "staticWado": False,
        "thumbnailRendering": "wadors",
        "imageRendering": "wadors",
    }
    assert settings["qidoSupportsIncludeField"] is True
    assert settings["supportsWildcard"] is True
    assert settings["supportsFuzzyMatching"] is False
    assert settings["enableStudyLazyLoad"] is True
    assert settings["omitQuotationForMultipartRequest"] is True


def test_a_first_visit_gets_no_onboarding_tour(no_dist_client: TestClient) -> None:
    config = _config(no_dist_client)
    assert config["customizationService"] == {"ohif.tours": {"$set": []}}
    dist = default_dist()
    if has_dist(dist):  # the key is the one the installed OHIF's viewer layout reads
        bundles = "".join(p.read_text(errors="replace") for p in dist.glob("*.bundle.*.js"))
        assert "getCustomization('ohif.tours')" in bundles


def test_without_the_dist_the_viewer_says_how_to_install_it(no_dist_client: TestClient) -> None:
    for path in ["/viewer/", "/viewer/viewer?StudyInstanceUIDs=1.2.3", "/viewer/app.bundle.js"]:
        answer = no_dist_client.get(path, headers=as_user("viewer"))
        assert answer.status_code == 503, path
        assert "bash tools/setup.sh" in answer.text
        assert "Node.js 20" in answer.text


def test_the_dist_is_served_with_its_public_path_under_viewer(dist_client: TestClient) -> None:
    user = as_user("viewer")
    index = dist_client.get("/viewer/", headers=user)
    assert index.status_code == 200
    assert 'window.PUBLIC_URL="/viewer/"' in index.text
    assert 'src="/viewer/app.bundle.abc.js"' in index.text
    assert 'src="/viewer/app-config.js"' in index.text
    assert 'href="/viewer/manifest.json"' in index.text
    bundle = dist_client.get("/viewer/app.bundle.abc.js", headers=user)
    assert '__webpack_require__.p = "/viewer/";' in bundle.text
    css = dist_client.get("/viewer/app.bundle.css", headers=user)
    assert "url(/viewer/f.woff2)" in css.text
    assert (
        '"/viewer/assets/icon.png"' in dist_client.get("/viewer/manifest.json", headers=user).text
    )
    wasm = dist_client.get("/viewer/x.wasm", headers=user)
    assert wasm.headers["content-type"] == "application/wasm"
    assert wasm.content == b"\0asm\1\0\0\0"


def test_our_config_replaces_the_one_in_the_dist(dist_client: TestClient) -> None:
    text = dist_client.get("/viewer/app-config.js", headers=as_user("viewer")).text
    assert "the public demo" not in text
    assert "/dicom-web" in text


def test_client_side_routes_get_the_page_and_missing_files_a_404(dist_client: TestClient) -> None:
    user = as_user("viewer")
    route = dist_client.get("/viewer/viewer?StudyInstanceUIDs=1.2.3", headers=user)
    assert route.status_code == 200
    assert 'window.PUBLIC_URL="/viewer/"' in route.text
    assert dist_client.get("/viewer/nothing.bundle.js", headers=user).status_code == 404
    assert dist_client.get("/viewer/../secret.txt", headers=user).status_code == 404
    assert dist_client.get("/viewer/%2E%2E/secret.txt", headers=user).status_code == 404


def test_opening_a_study_goes_to_ohifs_viewer_route(dist_client: TestClient) -> None:
    """/viewer?StudyInstanceUIDs=... (the findings' links) opens the viewer, not the study list."""
    user = as_user("viewer")
    bare = dist_client.get("/viewer?StudyInstanceUIDs=1.2&SeriesInstanceUIDs=3.4", headers=user)
    assert bare.headers["location"] == "/viewer/?StudyInstanceUIDs=1.2&SeriesInstanceUIDs=3.4"
    opened = dist_client.get(bare.headers["location"], headers=user)
    assert opened.status_code == 307
    assert (
        opened.headers["location"] == "/viewer/viewer?StudyInstanceUIDs=1.2&SeriesInstanceUIDs=3.4"
    )


def test_no_service_worker_caches_studies_past_a_session(dist_client: TestClient) -> None:
    user = as_user("viewer")
    assert dist_client.get("/viewer/sw.js", headers=user).status_code == 404
    init = dist_client.get("/viewer/init-service-worker.js", headers=user)
    assert init.status_code == 200
    assert "Workbox" not in init.text


def test_a_technologist_may_view_but_a_signed_out_browser_may_not(dist_client: TestClient) -> None:
    assert dist_client.get("/viewer/", headers=as_user("technologist")).status_code == 200
    assert dist_client.get("/viewer/app.bundle.abc.js").status_code == 303


@pytest.mark.skipif(not has_dist(default_dist()), reason="OHIF not installed (tools/setup.sh)")
def test_the_installed_ohif_has_no_chunk_left_loading_from_the_root() -> None:
    """Every webpack runtime in the real dist moves under /viewer/ (else chunks 404)."""
    dist = default_dist()
    runtimes = 0
    for path in dist.glob("*.js"):
        text = rewrite_public_path(path.name, path.read_bytes(), "/viewer/")
        assert b'__webpack_require__.p = "/";' not in text, path.name
        runtimes += text.count(b'__webpack_require__.p = "/viewer/";')
    assert runtimes >= 2
    index = rewrite_public_path("index.html", (dist / "index.html").read_bytes(), "/viewer/")
    assert not re.search(rb'(?:src|href)="/(?!viewer/)', index)


def test_rewriting_leaves_other_files_and_absolute_urls_alone(tmp_path: Path) -> None:
    assert rewrite_public_path("a.png", b'src="/x"', "/viewer/") == b'src="/x"'
    page = b'<a href="//cdn.example/x"></a><a href="https://e.org/"></a>'
    assert rewrite_public_path("index.html", page, "/viewer/") == page
