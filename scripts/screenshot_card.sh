#!/usr/bin/env bash
# Render the credit example's model card as HTML and screenshot it with headless Chromium.
#
# Not part of .ci/run: it installs Debian's chromium with apt when it is missing (root or
# sudo needed). The example is copied to a temporary folder, prepared and evaluated there,
# so examples/credit is not touched. Output: docs/images/model-card.png (override with $1).
#
#   scripts/screenshot_card.sh [OUTPUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=${1:-docs/images/model-card.png}
case "$out" in /*) ;; *) out="$repo/$out" ;; esac
export OMP_NUM_THREADS=1 MPLBACKEND=Agg MLPROD_TODAY=${MLPROD_TODAY:-2026-11-27}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
    browser=$(command -v chromium)
fi

work=$(mktemp -d)
profile=$(mktemp -d)
trap 'rm -rf "$work" "$profile"' EXIT
python - "$repo/examples/credit" "$work/credit" <<'PY'
import shutil, sys
skip = {"tests", ".github", ".gitlab-ci.yml", "monitoring", "MODEL_CARD.md", ".mlprod", "deploy", "models", "logs"}
shutil.copytree(sys.argv[1], sys.argv[2],
                ignore=lambda d, names: {n for n in names if n in skip or n == "__pycache__"})
PY
(cd "$work/credit" && python prepare.py >/dev/null && python -m mlprod evaluate --html "$work/card.html")

mkdir -p "$(dirname "$out")"
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --screenshot="$out" --window-size=1200,2400 \
    "file://$work/card.html" 2>/dev/null
echo "wrote $out"
