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

# Sets t to dom0's uptime in centiseconds (no fork).
now() { read -r up _ < /proc/uptime; t=$(( ${up%.*} * 100 + 1${up#*.} - 100 )); }
stage() { read -r up _ < /proc/uptime; echo "XPLAB stage=$1 t=$up"; }
tag() { awk -v t="$1" '{ sub(/\r$/, ""); print t $0; fflush() }'; }
diag() { [ -s "$2" ] || return 0; echo "XPD|--- $1"; tail -n "${3:-30}" "$2" | tag 'XPD|'; }

# Sets dev to the virtio disk whose serial is $1 (xpin, xpout). Shell builtins only: under
# TCG every fork of a PV dom0 costs milliseconds, and this is on every run's path.
disk() {
    for d in /sys/block/vd*; do
        serial=
        read -r serial <$d/serial 2>/dev/null # (no newline at its end: read says 1, sets it)
        [ "$serial" = "$1" ] && { dev=/dev/${d##*/}; return 0; }
    done
    return 1
}

# Waits for the host's go (after it saved or restored the lab), then unpacks the run's inputs.
wait_for_inputs() {
    stty -echo 2>/dev/null
    echo "XPLAB ready"
    read -r go
    stage inputs
    disk xpin || fail inputs "no input disk (virtio, serial xpin)"
    # The saved lab's page cache may hold this disk's first block from its boot.
    blockdev --flushbufs $dev
    read -r magic blocks <$dev
    [ "$magic" = XPIN1 ] || fail inputs "no run inputs on $dev (header '$magic')"
    cd / && dd if=$dev bs=4096 skip=1 count=$blocks 2>/dev/null | cpio -i -d -m -u 2>/run/cpio.err ||
        fail inputs "unpacking the run's inputs failed: $(cat /run/cpio.err)"
    . /etc/xenprobe/lab.env
    mkdir -p $XP_EXPORT
}

# Files left in $XP_EXPORT go to the export disk (a newc cpio from its first byte).
export_files() {
    [ -n "$(ls -A $XP_EXPORT 2>/dev/null)" ] || return 0
    disk xpout || { echo "XPD|--- export: no export disk"; return 0; }
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

# `xl create -F` with its output relayed (tagged XPX|, and kept in $XLOUT). Its progress
# arrives as lines on the FIFO $XLEV, which this shell holds open read-write on fd 3 so that
# no writer ever blocks: "started <domid>" when xl says "Waiting for domain NAME (domid N) to
# die" (built and unpaused: the probe runs from then on), "ended" once xl exited. Nothing
# polls: under TCG each poll's fork took CPU time from xl and the probe.
XLEV=/run/xl.events
start_xl() {
    mkfifo $XLEV && exec 3<>$XLEV
    ( xl create -F "$XP_XLCFG" 2>&1; echo "xl exited with status $?" ) | awk -v out=$XLOUT -v ev=$XLEV '
        { print "XPX|" $0; fflush(); print $0 >> out; fflush(out) }
        !s && match($0, /\(domid [0-9]+\) to die/) {
            s = 1; print "started " substr($0, RSTART + 7, RLENGTH - 15) > ev; fflush(ev)
        }
        END { print "ended" > ev; fflush(ev) }' &
}

# Reads xl's next event into ev and arg within $1 seconds of dom0's clock; ev=timeout if none.
next_event() {
    now; until_cs=$((t + $1 * 100))
    while [ $t -lt $until_cs ]; do
        read -t $(( (until_cs - t + 99) / 100 )) -r ev arg <&3 && return 0
        now
    done
    ev=timeout
}

# Waits for the probe domain to end; sets DOMID and timed_out. Building may take XL_BUILD_S;
# the probe's timeout counts from its start, when the peers and the dom0 script start too.
XL_BUILD_S=60
watch_guest() {
    timed_out=
    next_event $XL_BUILD_S
    if [ "$ev" = started ]; then
        DOMID=$arg
        stage guest-started
        start_peers
        start_script
        next_event $XP_TIMEOUT
    fi
    [ "$ev" != timeout ] || timed_out=1
}

# Lets xenconsoled drain the ring of the (preserved) domain, then closes the FIFO by ending
# xenconsoled, and waits for the relay to print the last line.
drain_console() {
    sleep 0.1
    kill $xc_pid 2>/dev/null
    # The relays end when xenconsoled has closed their FIFOs; a guard bounds the wait (2 s).
    ( sleep 2; kill $con_pid $peer_relays 2>/dev/null ) &
    guard=$!
    wait $con_pid $peer_relays 2>/dev/null
    kill $guard 2>/dev/null
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
        fail xl-create "xl create -F built no domain in $XL_BUILD_S s"
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
start_xl
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
