#!/usr/bin/env bash
# Set up Vesalius in ./.venv from the pinned lock file. Idempotent: a second run with an
# unchanged lock returns in about a second.
#   bash tools/setup.sh          Python environment only (enough for the demo)
#   bash tools/setup.sh --test   also the Debian packages the test suite uses
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_TEST_PACKAGES=(postgresql dicom3tools dcmtk orthanc orthanc-dicomweb chromium chromium-driver)

pick_python() {
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            echo "$candidate"
            return
        fi
    done
    echo "setup: Python 3.11 is needed (Debian: apt-get install python3.11 python3.11-venv)" >&2
    exit 2
}

install_debian_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    # Tests start their own Orthanc inside a private network namespace; a system service
    # started by the package would listen on every interface.
    if [[ " ${missing[*]} " == *" orthanc "* ]] && command -v systemctl >/dev/null &&
        systemctl is-system-running >/dev/null 2>&1; then
        $sudo systemctl disable --now orthanc >/dev/null 2>&1 || true
    fi
}

setup_venv() {
    [ -x .venv/bin/python ] || "$(pick_python)" -m venv .venv
    local stamp=.venv/.vesalius-setup want
    want=$(cat pyproject.toml requirements/lock.txt | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "setup: installing pinned Python packages into .venv"
        .venv/bin/python -m pip install -q --upgrade pip
        .venv/bin/python -m pip install -q -r requirements/lock.txt
        .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
        echo "$want" >"$stamp"
    fi
}

install_ohif_viewer() {
    # The image viewer: OHIF's prebuilt dist, pinned by web/package-lock.json, in web/node_modules.
    local hint="the image viewer (OHIF) is not installed; the rest works without it"
    if ! command -v node >/dev/null || ! command -v npm >/dev/null ||
        [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
        echo "setup: Node.js 20+ with npm not found: $hint (install Node.js, run setup again)"
        return
    fi
    local want have
    want=$(node -p 'require("./web/package.json").dependencies["@ohif/app"]')
    have=$(node -p 'require("./web/node_modules/@ohif/app/package.json").version' 2>/dev/null || true)
    [ "$have" = "$want" ] && [ -f web/node_modules/@ohif/app/dist/index.html ] && return
    echo "setup: installing the OHIF viewer (@ohif/app $want) into web/node_modules"
    (cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
        echo "setup: npm ci failed in web/: $hint" >&2
}

if [ "${1:-}" = "--test" ]; then
    install_debian_packages "${DEBIAN_TEST_PACKAGES[@]}"
fi
setup_venv
install_ohif_viewer
