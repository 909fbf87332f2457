#!/usr/bin/env bash
# The programs the test suite drives for real, from Debian's packages: redis-server (the Redis queue e2e test),
# PostgreSQL's initdb and pg_ctl (the store's tests start a server of their own: tests/helpers/postgres.py),
# LibreOffice's soffice with its writer, calc and impress (a real office-made PDF; legacy and OpenDocument files), tesseract with its English and orientation data (the tesseract
# OCR engine), chromium and its chromedriver (the web app's browser tests, driven by Selenium: no browser is downloaded). Installed with apt-get when missing (as root); otherwise the test command stops here, naming them.
set -euo pipefail

declare -A PROGRAM_PACKAGES=(
  [redis-server]="redis-server"
  [soffice]="libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui"
  [tesseract]="tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd"
  [chromium]="chromium"
  [chromedriver]="chromium-driver"
)

missing=()
packages=()
for program in "${!PROGRAM_PACKAGES[@]}"; do
  if ! command -v "$program" >/dev/null 2>&1; then
    missing+=("$program")
    packages+=(${PROGRAM_PACKAGES[$program]})
  fi
done
# tesseract without its orientation data is not enough: the OSD test needs osd.traineddata.
if command -v tesseract >/dev/null 2>&1 && ! tesseract --list-langs 2>/dev/null | grep -qx osd; then
  missing+=("tesseract osd data")
  packages+=(tesseract-ocr-osd)
fi

# soffice from the writer alone converts no spreadsheet or slides: XLS, PPT, ODS and ODP need calc and impress.
if command -v soffice >/dev/null 2>&1 && ! dpkg -s libreoffice-calc-nogui libreoffice-impress-nogui >/dev/null 2>&1; then
  missing+=("LibreOffice calc and impress")
  packages+=(libreoffice-calc-nogui libreoffice-impress-nogui)
fi

# Debian keeps PostgreSQL's programs off PATH, in /usr/lib/postgresql/<major>/bin.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=("PostgreSQL (initdb, pg_ctl)")
  packages+=(postgresql)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  printf '\n== installing the test programs %s (apt-get: %s)\n' "${missing[*]}" "${packages[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null
  exit 0
fi

echo "the test suite needs ${missing[*]}: install them first (apt-get install ${packages[*]})" >&2
exit 1
