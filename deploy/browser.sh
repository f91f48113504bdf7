#!/usr/bin/env bash
# Install Debian's Chromium, which the browser tests drive with Playwright
# (executable_path=/usr/bin/chromium, headless), when it is missing.
set -euo pipefail

command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || \
    (apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null)
else
  echo "error: Chromium is missing (Debian package chromium); the browser tests need it" >&2
  exit 1
fi
