"""The OHIF viewer's prebuilt ``dist/`` served under ``/viewer/``, and its ``app-config.js``.

The npm package ``@ohif/app`` ships a production build that expects to live at ``/``: its
``index.html`` names ``/app.bundle.*.js``, webpack's runtime loads chunks from
``__webpack_require__.p = "/"``, the CSS loads fonts from ``url(/...)``, and the application
reads ``window.PUBLIC_URL``. :func:`rewrite_public_path` moves all of that under a prefix as
the files are served (the package on disk is left as npm installed it). ``app-config.js``
is made here (:func:`app_config_js`): one DICOMweb data source on this origin's
``/dicom-web``, so the browser needs no CORS, and no first-visit tour (the global
customization ``ohif.tours`` is emptied): a radiologist opening a study sees the images.

The service worker is not installed: it would cache studies past the end of a session.

Examples
--------
>>> page = b'<script>window.PUBLIC_URL="/"</script><script src="/app.bundle.1.js"></script>'
>>> rewrite_public_path("index.html", page, "/viewer/").decode()
'<script>window.PUBLIC_URL="/viewer/"</script><script src="/viewer/app.bundle.1.js"></script>'
>>> rewrite_public_path("a.js", b'__webpack_require__.p = "/";', "/viewer/")
b'__webpack_require__.p = "/viewer/";'
>>> "qidoRoot" in app_config_js(router_basename="/viewer")
True
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

OHIF_VERSION = "3.13.2"
"""The ``@ohif/app`` version ``web/package.json`` pins."""

DICOMWEB_PATH = "/dicom-web"

_ATTRIBUTE = re.compile(rb'(\s(?:href|src|content)=")/(?!/)')
_CSS_URL = re.compile(rb'url\((["\']?)/(?!/)')
_JSON_PATH = re.compile(rb'("(?:src|url|logo|start_url)"\s*:\s*")/(?!/)')
_WEBPACK_PUBLIC_PATH = re.compile(rb'(__webpack_require__\.p\s*=\s*")/(")')
_PUBLIC_URL = re.compile(rb'(window\.PUBLIC_URL\s*=\s*")/(")')


def rewrite_public_path(name: str, content: bytes, prefix: str) -> bytes:
    """``content`` of the dist file ``name`` with its root-relative paths moved under ``prefix``.

    ``prefix`` starts and ends with ``/``. Files other than HTML, JavaScript, CSS and the
    JSON manifests come back unchanged.
    """
    inner = prefix.encode()[1:]
    if name.endswith(".html"):
        content = _PUBLIC_URL.sub(rb"\1" + prefix.encode() + rb"\2", content)
        return _ATTRIBUTE.sub(rb"\1/" + inner, content)
    if name.endswith(".js"):
        content = _PUBLIC_URL.sub(rb"\1" + prefix.encode() + rb"\2", content)
        return _WEBPACK_PUBLIC_PATH.sub(rb"\1" + prefix.encode() + rb"\2", content)
    if name.endswith(".css"):
        return _CSS_URL.sub(rb"url(\1/" + inner, content)
    if name.endswith(".json"):
        return _JSON_PATH.sub(rb"\1/" + inner, content)
    return content


def dicomweb_source() -> dict[str, Any]:
    """OHIF's DICOMweb data source for our server (roots filled in by the page's origin)."""
    return {
        "namespace": "@ohif/extension-default.dataSourcesModule.dicomweb",
        "sourceName": "dicomweb",
        "configuration": {
            "friendlyName": "Vesalius DICOMweb",
            "name": "vesalius",
            "qidoSupportsIncludeField": True,
            "imageRendering": "wadors",
            "thumbnailRendering": "wadors",
            "enableStudyLazyLoad": True,
            "supportsFuzzyMatching": False,
            "supportsWildcard": True,
            "staticWado": False,
            "singlepart": "bulkdata,video",
            "bulkDataURI": {"enabled": True, "relativeResolution": "studies"},
            "omitQuotationForMultipartRequest": True,
        },
    }


def app_config(router_basename: str) -> dict[str, Any]:
    """``window.config`` of the viewer, without the DICOMweb roots (set from the origin)."""
    return {
        "routerBasename": router_basename,
        "extensions": [],
        "modes": [],
        # no first-visit tour popping up over the images (OHIF's Onboarding reads this list)
        "customizationService": {"ohif.tours": {"$set": []}},
        "showStudyList": True,
        "maxNumberOfWebWorkers": 3,
        "showWarningMessageForCrossOrigin": False,
        "showCPUFallbackMessage": True,
        "showLoadingIndicator": True,
        "strictZSpacingForVolumeViewport": True,
        "groupEnabledModesFirst": True,
        "investigationalUseDialog": {"option": "never"},
        "disableConfirmationPrompts": True,
        "maxNumRequests": {"interaction": 100, "thumbnail": 10, "prefetch": 10},
        "defaultDataSourceName": "dicomweb",
        "dataSources": [dicomweb_source()],
    }


def app_config_js(*, router_basename: str) -> str:
    """The viewer's ``app-config.js``: :func:`app_config`, DICOMweb on this page's origin."""
    config = json.dumps(app_config(router_basename), indent=2)
    return (
        "// Made by Vesalius for this server: OHIF reads DICOMweb on its own origin.\n"
        "(function () {\n"
        f"  var config = {config};\n"
        f"  var root = window.location.origin + {json.dumps(DICOMWEB_PATH)};\n"
        "  var source = config.dataSources[0].configuration;\n"
        "  source.qidoRoot = root;\n"
        "  source.wadoRoot = root;\n"
        "  source.wadoUriRoot = root;\n"
        "  window.config = config;\n"
        "})();\n"
    )


def default_dist() -> Path:
    """Where ``bash tools/setup.sh`` installs the viewer: ``web/node_modules/@ohif/app/dist``."""
    return Path(__file__).resolve().parents[4] / "web" / "node_modules" / "@ohif" / "app" / "dist"


def has_dist(dist: Path) -> bool:
    """Whether ``dist`` holds a built viewer (its ``index.html``)."""
    return (dist / "index.html").is_file()
