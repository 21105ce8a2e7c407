#!/usr/bin/env bash
# The README walk ("The intruder story at 80x24"): the demo intruder from first alert to a
# resolved case, driven in tmux at 80x24 on a cold data dir; one capture a step in $WALK_OUT.
# Needs tmux and a built binary (MANTISSA_BIN, default $CARGO_TARGET_DIR/release/mantissa).
set -u
BIN=${MANTISSA_BIN:-${CARGO_TARGET_DIR:-target}/release/mantissa}
D=${WALK_DATA:-/tmp/walkdata}; OUT=${WALK_OUT:-/tmp/walkcap}; rm -rf "$D" "$OUT"; mkdir -p "$OUT"
tmux kill-session -t walk 2>/dev/null
tmux new-session -d -s walk -x 80 -y 24 "env -u NO_COLOR MANTISSA_USER=alice $BIN --data-dir $D; sleep 600"
cap() { tmux capture-pane -p -t walk > "$OUT/$1.txt"; }
waitfor() { for i in $(seq 1 ${2:-120}); do tmux capture-pane -p -t walk | grep -q -- "$1" && return 0; sleep 1; done; echo "TIMEOUT $1"; cap timeout_$RANDOM; return 1; }
k() { tmux send-keys -t walk "$@"; sleep 0.5; }
waitfor "No query run yet" 300
k 3; waitfor " open " 300; sleep 25; cap 01_alerts
k 6; sleep 1; k S; waitfor "Enter opens one" 30; sleep 2; cap 02_suggested
k Enter; sleep 1; k C-u; k -l "carol's account taken over from 185.220.101.47"; cap 03_title; k Enter; waitfor "opened:" 20; cap 04_opened
k S; sleep 2; k Enter; waitfor "alerts (" 20; sleep 1; cap 05_detail
for i in 1 2 3; do k C-d; done; sleep 1; cap 06_entities
k x; k T; waitfor "the timeline reads" 30; cap 07_timeline_sql
k F5; waitfor "SUCCEEDED" 60; sleep 1; cap 08_timeline_run
k /; k -l "vpcflow"; k Enter; sleep 2; cap 09_timeline_vpc; k /; k Escape; k /; k -l "s3access"; k Enter; sleep 2; cap 09b_timeline_s3; k /; k Escape
k 2; sleep 1; k L; waitfor "Athena" 30; sleep 1; cap 10_ledger
k z; sleep 1; k -l "2h noisy while the case is worked"; k Enter; waitfor "suppressed:" 20; cap 11_snoozed
k L; k 6; sleep 2; k A; k -l "alice"; k Enter; waitfor "owned by alice" 20
k N; k -l "bob's new key AKIAQX3INTRUDER4BOB7 deactivated, carol's password reset"; k Enter; waitfor "noted" 20
k r; sleep 1; k -l "tp carol's password sprayed from 185.220.101.47"; k Enter; waitfor "closed tp" 30; sleep 1; cap 12_closed
k Enter; waitfor "alerts (" 20; sleep 1; k G; sleep 1; cap 13_activity; k C-u; sleep 1; cap 13b_activity; k C-u; sleep 1; cap 13c_activity
k x; k 3; sleep 2; cap 14_alerts_resolved
echo done
