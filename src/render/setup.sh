#!/bin/sh
# kdrender's setup runner: what KubeDirector did by exec, done by the member itself, in the app
# container of each role with a setup package.
#
#   setup.sh start PACKAGE EVENTS LAYOUT [systemd]  the postStart hook: marks the member as
#                                                   starting, runs `run` in the background
#   setup.sh run PACKAGE EVENTS LAYOUT [systemd]    the setup, then a `sync` every 10 seconds
#   setup.sh sync PACKAGE EVENTS LAYOUT             one pass of what `run` repeats
#   setup.sh probe                                  the startup probe: ready, or why not
#
# The setup, in KubeDirector's order:
#   - writes /etc/guestconfig/configmeta.json from the mounted ConfigMap;
#   - installs configcli (with its bdvcli and bd_vcli links) from the package the init step
#     kdrender-configcli copied in, unless the image has it: LAYOUT new, `install --new` into
#     /usr/local plus links in /usr/bin (every start: /usr/bin is not persisted); legacy, into /usr;
#   - unpacks the setup package into /opt/guestconfig once;
#   - runs `startscript --configure` once per member, if EVENTS has `configure` (the exit code is
#     kept in /opt/guestconfig/configure.status, which survives restarts when /opt/guestconfig is
#     persisted; a KubeDirector member's `<container>=0` counts as configured too);
#   - on a later start, tells the startscript what changed while the member was away.
# Each `sync`, when the kubelet has updated the mounted ConfigMap: configmeta.json is written anew
# and renamed over the old one, then the startscript hears `--reconnect` if the connected clusters
# changed and, role by role, `--delnodes` and `--addnodes --nodegroup 1 --role R --fqdns a,b` with
# the members removed and added, for the events in EVENTS. An event that fails is sent again on a
# later pass (waiting longer each time, up to about five minutes).
# The startup probe passes once the setup is done; until then, and after a failure, it says why.
# The log is /etc/kdrender/setup/log. KDRENDER_ROOT (tests) roots every path in another folder.
set -u
LC_ALL=C
export LC_ALL
root=${KDRENDER_ROOT:-}
mounted=$root/etc/kdrender/configmeta
work=$root/etc/kdrender/setup
guest=$root/etc/guestconfig
state=$root/opt/guestconfig
seen=$state/kdrender-membership
seen_connections=$state/kdrender-connections
progress=$work/state

say() { echo "kdrender-setup: $*"; }
# What the startup probe answers: `ready`, or where the setup is, or why it stopped.
note() { printf '%s\n' "$*" >"$progress.new" && mv -f "$progress.new" "$progress"; }
fail() { say "$*"; note "$*"; return 1; }
takes() { case " $events " in *" $1 "*) return 0 ;; esac; return 1; }
same() { [ "$(cksum 2>/dev/null <"$1")" = "$(cksum 2>/dev/null <"$2")" ]; }
keep() { cp "$1" "$2.next" && mv -f "$2.next" "$2"; }

# Copies the keys this member reads from one version of the mounted ConfigMap (the kubelet swaps
# versions at once, through the `..data` link) into $work/current. The version recorded by the last
# refresh: nothing to do (status 3).
snapshot() {
    from=$mounted
    version=$(readlink "$mounted/..data" 2>/dev/null) && from=$mounted/$version
    [ -n "$version" ] && [ "$version" = "$(cat "$work/version" 2>/dev/null)" ] && return 3
    rm -rf "$work/next" && mkdir "$work/next" &&
        cp "$from/configmeta.json" "$from/node-$POD_NAME.json" "$work/next/" || return 1
    for key in membership connections; do
        cp "$from/$key" "$work/next/" 2>/dev/null || : >"$work/next/$key"
    done
    rm -rf "$work/current" && mv "$work/next" "$work/current"
}

# The member's configmeta.json: the cluster's document, whose last line is its closing brace,
# with the member's node section added (as the init step assembles it).
assemble() {
    sed '$ s/}$/,/' "$1/configmeta.json" && printf '  "node": ' &&
        cat "$1/node-$POD_NAME.json" && printf '}\n'
}

# Writes configmeta.json anew when the ConfigMap changed, and renames it over the old one, so that
# a reader sees the old document or the new one, never a part.
refresh() {
    snapshot
    case $? in 0) ;; 3) return 0 ;; *) return 1 ;; esac
    new=$guest/.configmeta.json.kdrender-new
    assemble "$work/current" >"$new" || { rm -f "$new"; return 1; }
    if same "$new" "$guest/configmeta.json"; then
        rm -f "$new"
    else
        chmod 644 "$new" && mv -f "$new" "$guest/configmeta.json" || return 1
        say "configmeta.json updated"
    fi
    printf '%s\n' "$version" >"$work/version"
}

# configcli, as KubeDirector installs it, unless the image has it already.
install_configcli() {
    if [ "$1" = new ]; then prefix=$root/usr/local flag=--new; else prefix=$root/usr flag=; fi
    if [ ! -e "$root/usr/local/bin/configcli" ] && [ ! -e "$root/usr/bin/configcli" ]; then
        if [ ! -f "$work/configcli.tgz" ]; then
            say "configcli is not in the image, and no package of it was copied in: setup scripts that call it will fail"
        else
            note "installing configcli"
            unpacked=$work/configcli-install
            rm -rf "$unpacked" && mkdir "$unpacked" && tar xzf "$work/configcli.tgz" -C "$unpacked" &&
                chmod u+x "$unpacked"/configcli-*/install &&
                "$unpacked"/configcli-*/install $flag &&
                ln -sf "$prefix/bin/configcli" "$prefix/bin/bdvcli" &&
                ln -sf "$prefix/bin/configcli" "$prefix/bin/bd_vcli" ||
                { rm -rf "$unpacked"; fail "installing configcli failed (it needs python in the image, and to write to $prefix as KubeDirector did); see $work/log"; return 1; }
            rm -rf "$unpacked"
        fi
    fi
    # The new layout keeps configcli in /usr/local; scripts written for the old one look in /usr/bin.
    if [ "$1" = new ] && [ -e "$root/usr/local/bin/configcli" ]; then
        for tool in bdvcli bd_vcli configcli; do
            ln -sf "$root/usr/local/bin/configcli" "$root/usr/bin/$tool" || { fail "cannot link $tool into /usr/bin"; return 1; }
        done
        for tool in ccli configmacro; do
            ln -sf "$root/usr/local/bin/$tool" "$root/usr/bin/$tool" || { fail "cannot link $tool into /usr/bin"; return 1; }
        done
    fi
}

# The setup package, unpacked into /opt/guestconfig once.
unpack() {
    ls "$state"/*/startscript >/dev/null 2>&1 && return 0
    note "unpacking the setup package"
    mkdir -p "$state" && chmod 700 "$state" || { fail "cannot create $state"; return 1; }
    case "$1" in
        file://*) package=${1#file://} ;;
        *) package=$work/package.tgz
           curl -fsSL "$1" -o "$package" || { fail "cannot download the setup package $1"; return 1; } ;;
    esac
    tar xzf "$package" -C "$state" || { fail "cannot unpack the setup package $package"; return 1; }
    chmod u+x "$state"/*/startscript
}

# `startscript --configure`, once per member; after it, the membership it was configured with is
# what the member has heard of. A member configured before (a restart) hears what it missed.
configure() {
    if grep -q '=0$' "$state/configure.status" 2>/dev/null; then
        notify
        return 0
    fi
    code=0
    if takes configure; then
        note "running startscript --configure"
        echo "kdrender=" >"$state/configure.status"
        "$startscript" --configure >"$state/configure.stdout" 2>"$state/configure.stderr"
        code=$?
    fi
    echo "kdrender=$code" >"$state/configure.status"
    if [ "$code" -ne 0 ]; then
        say "startscript --configure failed with exit code $code"
        note "startscript --configure failed with exit code $code (output in $state/configure.stdout and configure.stderr); its last lines on stderr:
$(tail -n 5 "$state/configure.stderr" 2>/dev/null)"
        return 1
    fi
    keep "$work/current/membership" "$seen" && keep "$work/current/connections" "$seen_connections"
}

# The members of role $1 in the membership file $2, one FQDN a line.
members_of() { awk -v r="$1" '$1 == r { print $2 }' "$2"; }
# The FQDNs of role $1 in the membership file $2 that $3 lacks, comma-separated.
missing() {
    awk -v r="$1" -v lacking="$3" 'FILENAME == lacking { if ($1 == r) have[$2]; next }
        $1 == r && !($2 in have) { print $2 }' "$3" "$2" | paste -sd, -
}

# Tells the startscript what changed since the member last heard: `--reconnect` when the
# connected clusters changed, then per role `--delnodes` and `--addnodes`, for the events the
# role takes. What failed stays unheard, so that the next pass sends it again.
notify() {
    current=$work/current
    [ -f "$seen" ] || keep "$current/membership" "$seen"
    [ -f "$seen_connections" ] || keep "$current/connections" "$seen_connections"
    same "$current/membership" "$seen" && same "$current/connections" "$seen_connections" && return 0
    failed=0
    if ! same "$current/connections" "$seen_connections"; then
        say "reconnect"
        if "$startscript" --reconnect; then
            keep "$current/connections" "$seen_connections"
        else
            say "startscript --reconnect failed"; failed=1
        fi
    fi
    : >"$seen.next"
    for r in $(cut -d' ' -f1 "$current/membership" "$seen" | sort -u); do
        removed=$(missing "$r" "$seen" "$current/membership")
        added=$(missing "$r" "$current/membership" "$seen")
        heard=$(members_of "$r" "$current/membership")
        if [ -n "$removed" ] && takes delnodes; then
            say "delnodes $r: $removed"
            "$startscript" --delnodes --nodegroup 1 --role "$r" --fqdns "$removed" ||
                { say "startscript --delnodes failed"; failed=1; heard="$heard
$(echo "$removed" | tr , '\n')"; }
        fi
        if [ -n "$added" ] && takes addnodes; then
            say "addnodes $r: $added"
            "$startscript" --addnodes --nodegroup 1 --role "$r" --fqdns "$added" ||
                { say "startscript --addnodes failed"; failed=1
                  heard=$(echo "$heard" | grep -vxF -e "$(echo "$added" | tr , '\n')"); }
        fi
        echo "$heard" | awk -v r="$r" 'NF { print r " " $1 }' >>"$seen.next"
    done
    mv -f "$seen.next" "$seen"
    return "$failed"
}

wait_for_systemd() {
    note "waiting for systemd"
    tries=0
    until systemctl status systemd-journald >/dev/null 2>&1 || [ $tries -ge 300 ]; do
        tries=$((tries + 1)); sleep 1
    done
}

setup() {
    refresh || { fail "cannot write configmeta.json from $mounted"; return 1; }
    install_configcli "$layout" && unpack "$url" || return 1
    startscript=$(ls "$state"/*/startscript | head -n 1)
    configure || return 1
    note ready
    say "ready"
}

sync() {
    refresh || return 0
    notify
}

run() {
    [ "${4:-}" = systemd ] && wait_for_systemd
    setup || exit 1
    interval=${KDRENDER_SETUP_INTERVAL:-10}
    pause=$interval passes=${KDRENDER_SETUP_PASSES:--1}
    while [ "$passes" -ne 0 ]; do
        sleep "$pause"
        if sync; then
            pause=$interval
        else
            pause=$((pause * 2)); [ "$pause" -gt 320 ] && pause=320
        fi
        passes=$((passes - 1))
    done
}

command=${1:-}
[ $# -gt 0 ] && shift
url=${1:-} events=${2:-} layout=${3:-legacy}
case "$command" in
    start)
        mkdir -p "$work" && note starting
        if [ "${KDRENDER_SETUP_FOREGROUND:-}" = yes ]; then
            run "$@" >>"$work/log" 2>&1
        else
            ( trap '' HUP; exec /bin/sh "$0" run "$@" ) </dev/null >>"$work/log" 2>&1 &
        fi
        exit 0 ;;
    run) run "$@" ;;
    sync) startscript=$(ls "$state"/*/startscript | head -n 1); sync ;;
    probe)
        answer=$(cat "$progress" 2>/dev/null) || answer="not started"
        echo "kdrender-setup: $answer"
        [ "$answer" = ready ] ;;
    *) say "unknown command: $command"; exit 2 ;;
esac
