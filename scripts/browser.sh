#!/usr/bin/env bash
# Debian's Chromium and a CJK font for the browser tests (never a downloaded browser):
# without fonts-wqy-microhei, Chinese renders as boxes in the screenshots. pdftotext
# (poppler-utils) reads the collection letters back in their tests.
set -euo pipefail
if [ -x /usr/bin/chromium ] && command -v pdftotext >/dev/null && fc-list | grep -qi wqy; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium fonts-wqy-microhei poppler-utils
