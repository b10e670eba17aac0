#!/usr/bin/env bash
# Installs exactly the Debian 12 packages this project needs. Idempotent and
# quick when everything is there: it asks dpkg first and only runs
# `apt-get update` + `apt-get install` for what is missing.
#
#   scripts/setup.sh           build + test dependencies
#   scripts/setup.sh --fuzz    also clang (libFuzzer) for fuzz/
#   scripts/setup.sh --package also what scripts/package-check.sh uses to
#                              build, inspect and install the Debian package
set -euo pipefail

packages=(
  g++ make cmake                       # toolchain
  libboost1.81-dev                     # Asio, Beast (headers)
  libboost-url1.81-dev                 # Boost.URL
  libboost-system1.81-dev              # Boost.System (CMake config for Asio)
  libssl-dev openssl                   # TLS; openssl CLI makes test certificates
  nettle-dev pkg-config                # HMAC-SHA256 for the IPC's auth
  nlohmann-json3-dev                   # JSON
  libyaml-cpp-dev                      # room files
  libcli11-dev                         # command-line flags
  libspdlog-dev                        # logs
  help2man gzip                        # man pages generated from --help at build time
  libgtest-dev                         # GoogleTest
  librapidcheck-dev                    # property tests
  python3 python3-pytest python3-websocket  # acceptance/ harness (pytest, WebSocket client)
)
case "${1:-}" in
  --fuzz) packages+=(clang libclang-rt-14-dev) ;;
  # dpkg-dev: dpkg-shlibdeps (computes the package's dependencies), file and
  # binutils: CPack's DEB generator; man-db: man -w; systemd: systemd-analyze verify;
  # procps: pgrep.
  --package) packages+=(dpkg-dev file binutils man-db systemd procps) ;;
  "") ;;
  *) echo "setup.sh: unknown argument $1 (--fuzz or --package)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if (( ${#missing[@]} == 0 )); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
