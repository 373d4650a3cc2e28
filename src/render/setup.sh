#!/bin/sh
# kdrender setup runner: what KubeDirector did by exec, done by the member itself.
#
# Started by the app container's postStart hook with: <package URL> <role> <events> [systemd].
# It returns at once and does the work in the background, as KubeDirector's nohup'd startscript:
#   - unpacks the setup package into /opt/guestconfig once;
#   - runs `startscript --configure` once per member (kept in /opt/guestconfig/configure.status,
#     which survives restarts when /opt/guestconfig is on the member's volume);
#   - on every later start, compares the membership it saw last with the current one and runs
#     `startscript --delnodes` / `--addnodes` with the difference, role by role.
# Its log is /tmp/kdrender-setup.log.
if [ "${KDRENDER_SETUP_BACKGROUND:-}" != yes ]; then
    ( trap '' HUP; KDRENDER_SETUP_BACKGROUND=yes exec /bin/sh "$0" "$@" ) \
        </dev/null >>"${KDRENDER_SETUP_LOG:-/tmp/kdrender-setup.log}" 2>&1 &
    exit 0
fi
set -u
url=$1 role=$2 events=$3
state=${KDRENDER_STATE_DIR:-/opt/guestconfig}
current=${KDRENDER_MEMBERSHIP:-/etc/kdrender/configmeta/membership}
seen=$state/kdrender-membership
log() { echo "kdrender-setup: $*"; }
takes() { case " $events " in *" $1 "*) return 0 ;; esac; return 1; }

if [ "${4:-}" = systemd ]; then
    tries=0
    until systemctl status systemd-journald >/dev/null 2>&1 || [ $tries -ge 300 ]; do
        tries=$((tries + 1)); sleep 1
    done
fi
mkdir -p "$state" && chmod 700 "$state" || { log "cannot create $state"; exit 1; }
if ! ls "$state"/*/startscript >/dev/null 2>&1; then
    case "$url" in
        file://*) package=${url#file://} ;;
        *) package=/tmp/kdrender-package.tgz
           curl -fsSL "$url" -o "$package" || { log "cannot download $url"; exit 1; } ;;
    esac
    tar xzf "$package" -C "$state" || { log "cannot unpack $package"; exit 1; }
    chmod u+x "$state"/*/startscript
fi
startscript=$(ls "$state"/*/startscript | head -n 1)
command -v configcli >/dev/null 2>&1 || log "configcli is not in the image: setup scripts that call it will fail"

if ! grep -q '=0$' "$state/configure.status" 2>/dev/null; then
    if takes configure; then
        log "configuring $role"
        "$startscript" --configure >"$state/configure.stdout" 2>"$state/configure.stderr"
        code=$?
    else
        code=0
    fi
    echo "kdrender=$code" >"$state/configure.status"
    [ "$code" -eq 0 ] || { log "startscript --configure failed with exit code $code"; exit "$code"; }
    cp "$current" "$seen"
    exit 0
fi

[ -f "$seen" ] || cp "$current" "$seen"
for r in $(cut -d' ' -f1 "$current" "$seen" | sort -u); do
    removed=$(awk -v r="$r" '$1 == r { print $2 }' "$seen" | while read -r f; do
        grep -qxF "$r $f" "$current" || echo "$f"; done | paste -sd, -)
    added=$(awk -v r="$r" '$1 == r { print $2 }' "$current" | while read -r f; do
        grep -qxF "$r $f" "$seen" || echo "$f"; done | paste -sd, -)
    if [ -n "$removed" ] && takes delnodes; then
        log "delnodes $r: $removed"
        "$startscript" --delnodes --nodegroup 1 --role "$r" --fqdns "$removed"
    fi
    if [ -n "$added" ] && takes addnodes; then
        log "addnodes $r: $added"
        "$startscript" --addnodes --nodegroup 1 --role "$r" --fqdns "$added"
    fi
done
cp "$current" "$seen"
