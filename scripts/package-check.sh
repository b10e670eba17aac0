#!/usr/bin/env bash
# Checks the Debian package end to end, on this machine, as root:
#   1. checks `cmake --install build --prefix P` (the layout, the unit's
#      paths, configuration never overwritten), then builds the package with
#      CPack from the Release build in build/ (configured and built first if
#      needed, as scripts/test.sh does);
#   2. installs it with `apt-get install ./wibwob-sync_*.deb`;
#   3. from the installed paths: --help and --version of all five programs,
#      `man -w` (and a rendered page) for each, `wibwob-rooms check` on the
#      example rooms, `systemd-analyze verify` of wibwob-rooms.service, the
#      service user and the conffiles;
#   4. runs the unit's ExecStart as its user with the shipped example rooms
#      (fakewibwob as the app, the installed mockparty as the room server on
#      127.0.0.1:1999, the example's server): the bridge reaches the room;
#      SIGTERM stops everything and wibwob-rooms exits 0;
#   5. purges the package and checks that nothing it installed or made is
#      left: files, directories, conffiles, the user and group, /var/lib.
# There is no systemd running in CI, so step 4 runs what the unit would run,
# not the unit itself.
#
#   scripts/package-check.sh          (about 20 s after scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=wibwob-sync
programs=(wibwob-bridge fakewibwob mockparty wibwob-sim wibwob-rooms)
unit=/usr/lib/systemd/system/wibwob-rooms.service
svc_user=wibwob-rooms
state_dir=/var/lib/wibwob-rooms

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then sed -n '2,21p' "$0"; exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  echo "package-check: must run as root (it installs and purges a package)" >&2
  exit 2
fi

step() { echo "package-check: $*"; }
fail() { echo "package-check: FAIL: $*" >&2; exit 1; }

scripts/setup.sh --package

tmp=$(mktemp -d)
cleanup() {
  [[ -n ${rooms_pid:-} ]] && kill -KILL "$rooms_pid" 2>/dev/null || true
  [[ -n ${party_pid:-} ]] && kill -TERM "$party_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- 1. install from the build tree, then build the package ------------------
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWIBWOB_WERROR=ON
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' build/CMakeCache.txt)
[[ $build_type == Release ]] ||
  fail "build/ is a '$build_type' build; the package is made from a Release build (scripts/test.sh makes one)"
cmake --build build -j"$(nproc)"

prefix=$tmp/prefix
step "cmake --install build --prefix $prefix"
cmake --install build --prefix "$prefix" >/dev/null
example_count=$(ls examples/rooms/*.md | wc -l)
for p in "${programs[@]}"; do
  [[ -x $prefix/bin/$p ]] || fail "cmake --install: no $prefix/bin/$p"
  [[ -f $prefix/share/man/man1/$p.1.gz ]] || fail "cmake --install: no man page $p.1.gz"
done
for f in share/doc/$pkg/README.md share/doc/$pkg/docs/orchestrator.md etc/default/wibwob-rooms \
         lib/$pkg/wibwob-bridge-tls.so; do
  [[ -f $prefix/$f ]] || fail "cmake --install: no $prefix/$f"
done
[[ $(ls "$prefix"/share/doc/$pkg/examples/rooms/*.md | wc -l) -eq $example_count ]] ||
  fail "cmake --install: the example rooms are not all in share/doc/$pkg/examples/rooms"
[[ $(ls "$prefix"/etc/wibwob-rooms/*.md | wc -l) -eq $example_count ]] ||
  fail "cmake --install: the example rooms are not all in etc/wibwob-rooms"
grep -qx "ExecStart=$prefix/bin/wibwob-rooms start $prefix/etc/wibwob-rooms .*" \
  "$prefix/lib/systemd/system/wibwob-rooms.service" || fail "cmake --install: the unit's ExecStart does not use the prefix"
grep -qx "EnvironmentFile=-$prefix/etc/default/wibwob-rooms" \
  "$prefix/lib/systemd/system/wibwob-rooms.service" || fail "cmake --install: the unit's EnvironmentFile does not use the prefix"
"$prefix/bin/wibwob-rooms" check "$prefix"/etc/wibwob-rooms/*.md >/dev/null ||
  fail "cmake --install: wibwob-rooms check on the installed rooms failed"
# A second install keeps an edited configuration file.
echo "local edit" >>"$prefix/etc/wibwob-rooms/lobby.md"
cmake --install build --prefix "$prefix" >/dev/null
tail -n1 "$prefix/etc/wibwob-rooms/lobby.md" | grep -qx "local edit" ||
  fail "cmake --install overwrote an edited room file"
step "cmake --install: layout, unit paths, configuration kept: ok"

rm -f build/package/*.deb
step "building the package (cpack -G DEB)"
cpack --config build/CPackConfig.cmake -G DEB -B build/package >/dev/null
debs=(build/package/"$pkg"_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "cpack made no single $pkg .deb in build/package/"
deb=$PWD/${debs[0]}
version=$(dpkg-deb -f "$deb" Version)
upstream=${version%-*}
step "built $(basename "$deb")"

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libstdc++6 libyaml-cpp libssl3; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib (dpkg-shlibdeps did not run?): $depends"
done

# --- 2. install --------------------------------------------------------------
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -qv "not-installed"; then
  step "$pkg is installed from an earlier run: purging it first"
  apt-get purge -y -qq "$pkg" >/dev/null
fi
if getent passwd "$svc_user" >/dev/null; then
  fail "user $svc_user exists although $pkg is not installed (left by an install from a checkout?); remove it: userdel $svc_user"
fi

step "installing with apt-get install ./$(basename "$deb")"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log" >&2; fail "apt-get install of the package failed"; }
dpkg-query -W -f='${Status}' "$pkg" | grep -q "install ok installed" || fail "$pkg is not installed after apt-get"
dpkg -L "$pkg" >"$tmp/files"

# --- 3. the installed programs, man pages, rooms, unit -------------------------
for p in "${programs[@]}"; do
  [[ $(command -v "$p") == /usr/bin/$p ]] || fail "$p is not /usr/bin/$p on PATH (got '$(command -v "$p")')"
  "$p" --help >"$tmp/help" || fail "$p --help exited $?"
  grep -q "^Usage: $p " "$tmp/help" || fail "$p --help has no usage line"
  got=$("$p" --version) || fail "$p --version exited $?"
  [[ ${got%%$'\n'*} == "$p $upstream" ]] || fail "$p --version printed '$got', expected '$p $upstream' first"
  page=$(man -w "$p" 2>/dev/null) || {
    grep -rs "path-exclude.*man" /etc/dpkg/dpkg.cfg.d/ >&2 && echo "(dpkg is told to leave man pages out)" >&2
    fail "man -w $p finds no man page"
  }
  [[ $page == /usr/share/man/man1/$p.1.gz ]] || fail "man -w $p gave $page"
  MANWIDTH=100 man -P cat "$p" >"$tmp/man" 2>/dev/null || fail "man $p does not render"
  grep -q "$p $upstream" "$tmp/man" || fail "man $p does not carry version $upstream"
  grep -q -- "--version" "$tmp/man" || fail "man $p does not list --version"
done
for p in fakewibwob mockparty; do
  MANWIDTH=100 man -P cat "$p" 2>/dev/null | grep -q "test fixture" || fail "man $p does not say it is a test fixture"
done
# The bridge's second --version line: wss:// works (its TLS module loads from
# /usr/lib/$pkg), and a ws:// bridge does not link OpenSSL.
wibwob-bridge --version | grep -q "^wss:// rooms: TLS module loaded (OpenSSL" ||
  fail "the installed wibwob-bridge cannot load its TLS module: $(wibwob-bridge --version)"
if readelf -d /usr/bin/wibwob-bridge | grep -qE "NEEDED.*(libssl|libcrypto)"; then
  fail "/usr/bin/wibwob-bridge links OpenSSL (only its TLS module should)"
fi
step "5 programs: --help, --version $upstream, man pages, the bridge's TLS module: ok"

shopt -s nullglob
rooms=(/etc/wibwob-rooms/*.md)
examples=(/usr/share/doc/$pkg/examples/rooms/*.md)
shopt -u nullglob
(( ${#rooms[@]} >= 2 )) || fail "/etc/wibwob-rooms has ${#rooms[@]} room files, expected the examples"
(( ${#examples[@]} == ${#rooms[@]} )) || fail "/usr/share/doc/$pkg/examples/rooms does not hold the same rooms"
wibwob-rooms check "${rooms[@]}" >"$tmp/check" || fail "wibwob-rooms check /etc/wibwob-rooms/*.md exited $?"
[[ $(grep -c '^ok: ' "$tmp/check") -eq ${#rooms[@]} ]] || fail "wibwob-rooms check did not pass every room: $(cat "$tmp/check")"
grep -q "multiplayer: gets a bridge" "$tmp/check" || fail "no multiplayer example room"
wibwob-rooms check "${examples[@]}" >/dev/null || fail "wibwob-rooms check on the doc examples exited $?"
step "wibwob-rooms check on the example rooms: ok"

[[ -f $unit ]] || fail "$unit is not installed"
# verify exits 0 on unknown keys and bad values, with a warning: any output is a failure.
systemd-analyze verify "$unit" >"$tmp/verify" 2>&1 || { cat "$tmp/verify" >&2; fail "systemd-analyze verify exited $?"; }
[[ ! -s $tmp/verify ]] || { cat "$tmp/verify" >&2; fail "systemd-analyze verify warned"; }
grep -qx "ExecStart=/usr/bin/wibwob-rooms start /etc/wibwob-rooms .*" "$unit" || fail "unexpected ExecStart in $unit"
grep -qx "KillMode=mixed" "$unit" || fail "$unit must have KillMode=mixed (wibwob-rooms stops bridges before apps)"
step "systemd-analyze verify $unit: ok"

IFS=: read -r _ _ uid _ _ home shell < <(getent passwd "$svc_user") || fail "no user $svc_user"
(( uid < 1000 )) || fail "$svc_user is not a system user (uid $uid)"
[[ $home == "$state_dir" && $shell == /usr/sbin/nologin ]] || fail "$svc_user: home $home, shell $shell"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' "$pkg" | awk 'NF {print $1}' | sort | tr '\n' ' ')
expected_conffiles=$(printf '%s\n' /etc/default/wibwob-rooms "${rooms[@]}" | sort | tr '\n' ' ')
[[ $conffiles == "$expected_conffiles" ]] || fail "conffiles are '$conffiles', expected '$expected_conffiles'"
step "service user $svc_user (uid $uid) and conffiles: ok"

# --- 4. what the unit runs, as its user, with the example rooms ----------------
# As an admin would (docs/orchestrator.md, "Run it as a service"): the app
# command and flags go into the settings file. fakewibwob is the app; the
# sockets go to a private directory, so that a real /tmp/wibwob_<n>.sock on
# this machine is never touched. Then the unit's Environment= lines, its
# EnvironmentFile and its ExecStart are read from the installed unit and
# expanded as systemd does: ${VAR} is one argument, $VAR is split on whitespace.
install -d -o "$svc_user" -g "$svc_user" -m 0750 "$state_dir"  # what StateDirectory= does
sockets=$tmp/sockets
install -d -o "$svc_user" -g "$svc_user" -m 0750 "$sockets"
chmod 0755 "$tmp"
settings=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$unit")
[[ $settings == /etc/default/wibwob-rooms ]] || fail "the unit's EnvironmentFile is '$settings'"
cat >>"$settings" <<EOF
WIBWOB_APP_CMD="fakewibwob --socket {socket} --remove-socket-on-exit"
WIBWOB_ROOMS_ARGS="--socket-dir $sockets --stop-grace-ms 3000"
EOF
env_of_unit=$(
  while IFS= read -r assignment; do export "${assignment?}"; done < <(sed -n 's/^Environment=//p' "$unit")
  set -a; . "$settings"; set +a
  printf '%s\n' "$WIBWOB_APP_CMD" "$WIBWOB_ROOMS_ARGS"
)
{ read -r app_cmd; read -r rooms_args; } <<<"$env_of_unit"
read -r -a words < <(sed -n 's/^ExecStart=//p' "$unit")
cmd=()
for w in "${words[@]}"; do
  case $w in
    '${WIBWOB_APP_CMD}') cmd+=("$app_cmd") ;;
    '$WIBWOB_ROOMS_ARGS') read -r -a more <<<"$rooms_args"; cmd+=("${more[@]}") ;;
    '$'*|'${'*) fail "ExecStart uses $w, which this check does not know" ;;
    *) cmd+=("$w") ;;
  esac
done
[[ ${cmd[*]} == *"--app-cmd fakewibwob --socket {socket}"*"--socket-dir $sockets"* ]] ||
  fail "the settings in $settings did not reach the command: ${cmd[*]}"

mockparty --port 1999 --host 127.0.0.1 --ideal --log "$tmp/party.jsonl" >"$tmp/party.out" 2>"$tmp/party.err" &
party_pid=$!
for _ in $(seq 100); do
  grep -q '^READY ' "$tmp/party.out" && break
  kill -0 "$party_pid" 2>/dev/null || { cat "$tmp/party.err" >&2; fail "mockparty could not listen on 127.0.0.1:1999 (the example room's server; is the port in use?)"; }
  sleep 0.1
done
grep -q '^READY ' "$tmp/party.out" || fail "mockparty printed no READY line"

step "running the unit's command as $svc_user: ${cmd[*]}"
(
  cd "$state_dir"
  umask "$(sed -n 's/^UMask=//p' "$unit")"
  set -a; . "$settings"; set +a
  export STATE_DIRECTORY=$state_dir  # what StateDirectory= sets; the children's logs go to its logs/
  exec setpriv --reuid="$svc_user" --regid="$svc_user" --init-groups "${cmd[@]}"
) >"$tmp/rooms.out" 2>"$tmp/rooms.err" &
rooms_pid=$!
# The multiplayer example room's bridge opens a connection to its room.
for _ in $(seq 150); do
  grep -q '"room":"wibwob-shared".*"type":"open"' "$tmp/party.jsonl" 2>/dev/null && break
  kill -0 "$rooms_pid" 2>/dev/null || { cat "$tmp/rooms.err" >&2; fail "wibwob-rooms exited early"; }
  sleep 0.1
done
grep -q '"room":"wibwob-shared".*"type":"open"' "$tmp/party.jsonl" ||
  { cat "$tmp/rooms.err" >&2; fail "no bridge reached the example room wibwob-shared within 15 s"; }
for s in "$sockets"/wibwob_1.sock "$sockets"/wibwob_2.sock; do
  [[ -S $s ]] || fail "no app socket $s"
  [[ $(stat -c %U "$s") == "$svc_user" ]] || fail "$s is not owned by $svc_user"
  [[ $(stat -c %a "$s") == 770 ]] || fail "$s has mode $(stat -c %a "$s"), expected 770 (the unit's UMask=0007)"
done
for f in lobby.app.log wibwob-shared.app.log wibwob-shared.bridge.log; do
  f=$state_dir/logs/$f
  [[ -f $f && $(stat -c %U "$f") == "$svc_user" ]] || { cat "$tmp/rooms.err" >&2; fail "no log file $f owned by $svc_user"; }
  grep -q '^--- wibwob-rooms .*: starting ' "$f" || fail "$f has no start marker"
done
grep -q 'READY unix:' "$state_dir/logs/lobby.app.log" || fail "fakewibwob's READY line is not in lobby.app.log"
grep -q 'READY unix:' "$tmp/rooms.out" "$tmp/rooms.err" && fail "an app's output reached wibwob-rooms' own output"
step "both example rooms' apps run as $svc_user, and the bridge reached the room"

kill -TERM "$rooms_pid"
for _ in $(seq 200); do kill -0 "$rooms_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$rooms_pid" 2>/dev/null && fail "wibwob-rooms still runs 20 s after SIGTERM"
rc=0; wait "$rooms_pid" || rc=$?
rooms_pid=
[[ $rc -eq 0 ]] || { cat "$tmp/rooms.err" >&2; fail "wibwob-rooms exited $rc after SIGTERM"; }
if pgrep -u "$svc_user" >/dev/null; then
  pgrep -a -u "$svc_user" >&2; fail "processes of $svc_user are left after wibwob-rooms stopped"
fi
kill -TERM "$party_pid"; wait "$party_pid" || true; party_pid=
step "SIGTERM: wibwob-rooms stopped its bridge and apps and exited 0"

# --- 5. purge ----------------------------------------------------------------
step "purging $pkg"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$pkg" >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log" >&2; fail "apt-get purge failed"; }
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -qv "not-installed"; then
  fail "$pkg is still known to dpkg: $(dpkg-query -W -f='${Status}' "$pkg")"
fi
left=()
while read -r path; do
  [[ -e $path || -L $path ]] || continue
  # A directory may stay when another package owns it too (/usr/bin, ...).
  if [[ -d $path && ! -L $path ]] && dpkg -S "$path" >/dev/null 2>&1; then continue; fi
  left+=("$path")
done <"$tmp/files"
(( ${#left[@]} == 0 )) || fail "left after purge: ${left[*]}"
getent passwd "$svc_user" >/dev/null && fail "user $svc_user is left after purge"
getent group "$svc_user" >/dev/null && fail "group $svc_user is left after purge"
[[ ! -e $state_dir ]] || fail "$state_dir is left after purge"
[[ ! -e /etc/wibwob-rooms ]] || fail "/etc/wibwob-rooms is left after purge"
step "purge left nothing behind"
step "ok"
