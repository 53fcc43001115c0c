#!/bin/sh
# xenprobe virtual lab: the dom0 init (busybox sh), /init of the dom0 initramfs.
#
# Brings dom0 up (mounts, Xen modules, xenfs), starts the chosen xenstored, xen-init-dom0 and
# xenconsoled, creates the probe domain with `xl create -F`, relays to hvc0, tagged for the
# host (xtask/src/lab/classify.rs):
#   XPC|<probe console line>   XPS|<dom0 script line>   XPX|<xl output>   XPD|<diagnostics>
#   XPP|<peer name>|<console line of a peer domain>
#   XPLAB stage=<name> t=<dom0 uptime>   XPLAB end reason=<xl code>|timeout|destroyed|unknown
#   XPLAB fail stage=<name> <why>        XPLAB done (all relayed; power-off follows)
# then waits for the domain to end (or the timeout), drains its console and powers off.
#
# Boot parameters (part of the lab snapshot) come from the kernel command line: xp.xenstored=.
# Once xenstored and xenconsoled run, init prints `XPLAB ready` and waits for a line on the
# console: the host saves the lab there (xtask/src/lab/snapshot.rs), and every later run with
# the same configuration restores it and sends the line. The run's inputs then come from the
# virtio disk with serial "xpin": a 4 KiB header "XPIN1 <blocks>" and a newc cpio of that
# many 4 KiB blocks (/etc/xenprobe/lab.env with the XP_* variables, the xl configs, the dom0
# script, the kernels). Files the dom0 script leaves in $EXPORT go back to the host at the end
# as a cpio on the disk with serial "xpout" (the host unpacks them into <out>/export/).

export PATH=/usr/lib/xen/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
export XENSTORED_ROOTDIR=/var/lib/xenstored
XP_DOMNAME=xenprobe
XP_EXPORT=/run/export

LOG=/var/log/xen
FIFO=$LOG/console/guest-$XP_DOMNAME.log
XLOUT=/run/xl.out

# Sets t to dom0's uptime in centiseconds (no fork: this runs in polling loops).
now() { read -r up _ < /proc/uptime; t=$(( ${up%.*} * 100 + 1${up#*.} - 100 )); }
stage() { read -r up _ < /proc/uptime; echo "XPLAB stage=$1 t=$up"; }
tag() { awk -v t="$1" '{ sub(/\r$/, ""); print t $0; fflush() }'; }
diag() { [ -s "$2" ] || return 0; echo "XPD|--- $1"; tail -n "${3:-30}" "$2" | tag 'XPD|'; }

# The virtio disk whose serial is $1 (xpin, xpout).
disk() {
    for d in /sys/block/vd*; do
        [ "$(cat $d/serial 2>/dev/null)" = "$1" ] && { echo /dev/${d##*/}; return 0; }
    done
    return 1
}

# Waits for the host's go (after it saved or restored the lab), then unpacks the run's inputs.
wait_for_inputs() {
    stty -echo 2>/dev/null
    echo "XPLAB ready"
    read -r go
    stage inputs
    dev=$(disk xpin) || fail inputs "no input disk (virtio, serial xpin)"
    blockdev --flushbufs $dev
    set -- $(dd if=$dev bs=4096 count=1 2>/dev/null | head -n 1)
    [ "$1" = XPIN1 ] || fail inputs "no run inputs on $dev (header '$1')"
    cd / && dd if=$dev bs=4096 skip=1 count=$2 2>/dev/null | cpio -i -d -m -u 2>/run/cpio.err ||
        fail inputs "unpacking the run's inputs failed: $(cat /run/cpio.err)"
    . /etc/xenprobe/lab.env
    mkdir -p $XP_EXPORT
}

# Files left in $XP_EXPORT go to the export disk (a newc cpio from its first byte).
export_files() {
    [ -n "$(ls -A $XP_EXPORT 2>/dev/null)" ] || return 0
    dev=$(disk xpout) || { echo "XPD|--- export: no export disk"; return 0; }
    ( cd $XP_EXPORT && find . | cpio -o -H newc 2>/dev/null ) | dd of=$dev bs=65536 conv=fsync 2>/run/export.err ||
        { echo "XPD|--- export failed: $(tail -n 1 /run/export.err)"; return 0; }
    echo "XPLAB exported $(ls -A $XP_EXPORT | wc -l)"
}

finish() {
    export_files
    echo "XPLAB done"
    poweroff -f
    sleep 30
}

# Logs that explain a failure in stage $1 (Xen's own log is on the serial line already).
diagnostics() {
    case "$1" in dom0|xenstored) echo "XPD|--- dom0 dmesg (tail)"; dmesg | tail -n 15 | tag 'XPD|' ;; esac
    diag "xenstored log" $LOG/xenstored.log
    diag "xenstored output" $LOG/xenstored.out
    diag "xenstore-read" $LOG/xenstore-read.err
    diag "xen-init-dom0 output" $LOG/xen-init-dom0.out
    diag "xenconsoled output" $LOG/xenconsoled.out
}

fail() {
    s=$1; shift
    echo "XPLAB fail stage=$s $*"
    diagnostics $s
    finish
}

# Whether the driver of module $1 is built into the kernel (a --dom0-kernel of your own).
builtin() {
    case "$1" in
        xen-evtchn) [ -e /dev/xen/evtchn ] ;;
        xen-privcmd) [ -e /dev/xen/privcmd ] ;;
        xenfs) grep -q xenfs /proc/filesystems ;;
        xen-gntdev) [ -e /dev/xen/gntdev ] ;;
        xen-gntalloc) [ -e /dev/xen/gntalloc ] ;;
        virtio*) [ -d /sys/bus/virtio ] ;;
        *) false ;;
    esac
}

setup_dom0() {
    mount -t proc proc /proc
    for a in $(cat /proc/cmdline); do case "$a" in xp.xenstored=*) XP_XENSTORED=${a#*=} ;; esac; done
    mount -t sysfs sysfs /sys
    mount -t devtmpfs devtmpfs /dev 2>/dev/null
    mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
    mount -t tmpfs tmpfs /run
    mkdir -p /run/xen /run/lock $LOG/console /var/lib/xen /var/lib/xenstored /tmp
    ln -sf /run /var/run
    ln -sf /run/lock /var/lock
    stage dom0-up
    for m in xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc virtio_ring virtio \
        virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
        insmod /lib/modules/xen/$m.ko 2>/run/insmod.err || builtin $m ||
            fail dom0 "insmod $m failed: $(cat /run/insmod.err) (a --dom0-kernel other than the release's needs its Xen drivers built in: CONFIG_XEN_DEV_EVTCHN, CONFIG_XEN_PRIVCMD, CONFIG_XENFS, CONFIG_XEN_GNTDEV, CONFIG_XEN_GRANT_DEV_ALLOC =y)"
    done
    mount -t xenfs xenfs /proc/xen || fail dom0 "mounting xenfs on /proc/xen failed"
}

start_xenstored() {
    case "$XP_XENSTORED" in
        c) xenstored --no-fork --pid-file /run/xen/xenstored.pid >$LOG/xenstored.out 2>&1 & ;;
        ocaml) oxenstored --no-fork >$LOG/xenstored.out 2>&1 & ;;
        *) fail xenstored "unknown xenstored '$XP_XENSTORED'" ;;
    esac
    xs_pid=$!
    n=0
    # A client may block (libxenstore falls back to /dev/xen/xenbus): each try is bounded.
    until timeout 2 xenstore-read -s / >/dev/null 2>$LOG/xenstore-read.err; do
        kill -0 $xs_pid 2>/dev/null || fail xenstored "$XP_XENSTORED xenstored exited"
        n=$((n + 1))
        [ $n -ge 300 ] && fail xenstored "no answer from $XP_XENSTORED xenstored after 30 s"
        sleep 0.1
    done
    xen-init-dom0 >$LOG/xen-init-dom0.out 2>&1 || fail xenstored "xen-init-dom0 failed"
    stage xenstored-ready
}

# The guest console: xenconsoled writes its log into a FIFO that awk relays line by line, so
# nothing waits on polling and the tail is complete once xenconsoled closes the FIFO.
start_console() {
    mkfifo $FIFO
    tag 'XPC|' <$FIFO &
    con_pid=$!
    xenconsoled -i --log=guest --log-dir=$LOG/console >$LOG/xenconsoled.out 2>&1 &
    xc_pid=$!
}

# Peer domains (XP_PEERS, configs /etc/xenprobe/peer-N.cfg): created once the main domain
# runs, with @MAIN_DOMID@ in their command line replaced by its domid; each console is
# relayed like the main one, tagged with the peer's name.
start_peers() {
    i=0
    for p in $XP_PEERS; do
        mkfifo $LOG/console/guest-$p.log
        tag "XPP|$p|" <$LOG/console/guest-$p.log &
        peer_relays="$peer_relays $!"
        sed "s/@MAIN_DOMID@/$DOMID/g" /etc/xenprobe/peer-$i.cfg >/run/peer-$i.cfg
        ( xl create -F /run/peer-$i.cfg 2>&1; echo "xl exited with status $?" ) | tag "XPX|$p: " &
        peer_xls="$peer_xls $!"
        i=$((i + 1))
    done
}

# After the main domain ended: give peers up to 20 s to end by themselves, then destroy them.
wait_peers() {
    [ -n "$XP_PEERS" ] || return 0
    n=0
    for pid in $peer_xls; do
        while kill -0 $pid 2>/dev/null && [ $n -lt 400 ]; do sleep 0.05; n=$((n + 1)); done
    done
    # Whatever state `xl list` shows (running, blocked, paused, shut down, crashed, dying),
    # a peer that still exists is destroyed: none may outlive the run.
    for p in $XP_PEERS; do
        st=$(xl list "$p" 2>/dev/null | awk 'NR == 2 { print $5 }')
        [ -n "$st" ] || continue
        echo "XPX|$p: still present (xl state $st): destroyed"
        xl destroy "$p" 2>&1 | tag 'XPX|'
    done
}

start_script() {
    [ -n "$XP_SCRIPT" ] || return 0
    stage script-start
    ( export DOMID DOMNAME=$XP_DOMNAME PEERS="$XP_PEERS" EXPORT=$XP_EXPORT; sh "$XP_SCRIPT" 2>&1; echo "XPLAB script-exit=$?" >/dev/console ) \
        | tag 'XPS|' &
    script_pid=$!
}

# Waits for `xl create -F` to end; sets DOMID and timed_out. xl prints "Waiting for domain
# NAME (domid N) to die" once the domain is built and unpaused: the probe runs from then on,
# so the dom0 script starts and the timeout counts from there (building may take XL_BUILD_CS).
XL_BUILD_CS=6000
watch_guest() {
    now; start=$t
    deadline=
    timed_out=
    while kill -0 $xl_pid 2>/dev/null; do
        now
        if [ -z "$DOMID" ]; then
            guest_started
            if [ -z "$DOMID" ] && [ $t -gt $((start + XL_BUILD_CS)) ]; then
                timed_out=1; break
            fi
        elif [ $t -ge $deadline ]; then
            timed_out=1; break
        fi
        sleep 0.05
    done
    # A quick probe can end before one poll saw it start: peers and the script still run.
    [ -n "$DOMID" ] || guest_started
}

# Once xl says the domain was built and unpaused: note its id, start peers and the script.
guest_started() {
    DOMID=$(sed -n 's/.*Waiting for domain .* (domid \([0-9]*\)) to die.*/\1/p' $XLOUT 2>/dev/null)
    [ -n "$DOMID" ] || return 0
    stage guest-started
    deadline=$((t + XP_TIMEOUT * 100))
    start_peers
    start_script
}

# Lets xenconsoled drain the ring of the (preserved) domain, then closes the FIFO by ending
# xenconsoled, and waits for the relay to print the last line.
drain_console() {
    sleep 0.1
    kill $xc_pid 2>/dev/null
    n=0
    while kill -0 $con_pid 2>/dev/null && [ $n -lt 40 ]; do sleep 0.05; n=$((n + 1)); done
    kill $con_pid 2>/dev/null
    for pid in $peer_relays; do
        while kill -0 $pid 2>/dev/null && [ $n -lt 80 ]; do sleep 0.05; n=$((n + 1)); done
        kill $pid 2>/dev/null
    done
    [ -n "$script_pid" ] && kill $script_pid 2>/dev/null
}

report_end() {
    reason=$(sed -n 's/.*has shut down, reason code \([0-9]*\).*/\1/p' $XLOUT | head -n 1)
    if [ -n "$reason" ]; then
        echo "XPLAB end reason=$reason"
    elif [ -n "$timed_out" ] && [ -n "$DOMID" ]; then
        echo "XPLAB end timeout"
    elif grep -q "has been destroyed" $XLOUT; then
        echo "XPLAB end destroyed"
    elif [ -n "$DOMID" ]; then
        echo "XPLAB end unknown"
    elif [ -n "$timed_out" ]; then
        fail xl-create "xl create -F built no domain in $((XL_BUILD_CS / 100)) s"
    else
        fail xl-create "xl create -F failed ($(tail -n 1 $XLOUT))"
    fi
}

exec </dev/console >/dev/console 2>&1
setup_dom0
start_xenstored
start_console
wait_for_inputs
stage xl-create
( xl create -F "$XP_XLCFG" 2>&1; echo "xl exited with status $?" ) | awk \
    '{ print "XPX|" $0; fflush(); print $0 >> "'$XLOUT'"; fflush("'$XLOUT'") }' &
xl_pid=$!
watch_guest
if [ -n "$timed_out" ]; then
    [ -n "$DOMID" ] && timeout 20 xl destroy "$XP_DOMNAME" 2>&1 | tag 'XPX|'
    sleep 0.2
fi
wait_peers
drain_console
report_end
[ -n "$timed_out" ] && [ -z "$reason" ] && diagnostics probe
stage finished
finish
