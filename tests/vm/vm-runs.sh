#!/bin/bash
# vm-runs.sh: the qemu backend end to end, a real guest kernel under QEMU
# (TCG here, KVM where it runs guests): hot-add of CPUs and memory, a
# pseudo-S4 replace that passes and one whose I/O deadline is shorter than
# the cycle, a guest panic, corruption written into the disk image from
# the host, an I/O host bridge hot-added with a disk behind it, and QEMU
# killed mid-run. Needs `make guest`.
. "$(dirname "$0")/../e2e/lib.sh"
plans=$top_srcdir/tests/vm/plans
GUEST=${HOTSOAK_GUEST_DIR:-$top_builddir/guest}

if [ -n "${HOTSOAK_SKIP_VM:-}" ]; then
	echo "HOTSOAK_SKIP_VM is set: the VM tests are skipped"
	exit 77
fi
if [ ! -s "$GUEST/manifest.json" ]; then
	echo "no guest image in $GUEST: run make guest"
	exit 1
fi
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is missing"; exit 1; }
start_daemon --guest-dir "$GUEST"

findings() { curl -s "$SERVER/api/v1/runs/$1/findings"; }
events() { curl -s "$SERVER/api/v1/runs/$1/events?limit=500"; }

# run_plan NAME: runs a plan to its end; sets id and rc.
run_plan() {
	set +e
	"$HOTSOAK" run "$plans/$1.yaml" --wait >"$E2E_DIR/$1.out" 2>&1
	rc=$?
	set -e
	cat "$E2E_DIR/$1.out"
	id=$(run_id_of <"$E2E_DIR/$1.out")
}

# wait_step ID ACTION SECONDS: until the run is at a step of that action.
wait_step() {
	for _ in $(seq $(( $3 * 10 ))); do
		[ "$(curl -s "$SERVER/api/v1/runs/$1" | json '.state + " " + .step.action')" = "stepping $2" ] && return 0
		sleep 0.1
	done
	return 1
}

t0=$(date +%s)

# 1. Hot-add 2 CPUs and 256MiB under verified I/O: pass, latencies recorded.
run_plan vm-hotadd
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "vm-hotadd exits 0 and its verdict is pass" \
    [ "$rc" -eq 0 -a "$(echo "$run" | json .verdict)" = pass ]
check "the guest has 3 CPUs online" [ "$(echo "$run" | json .topology.cpus.online)" = 3 ]
check "blocks were verified" [ "$(echo "$run" | json .counters.blocks_verified)" -gt 0 ]
check "two hot-add latencies in the summary" \
    [ "$(echo "$run" | json '.hot_add_latency_ms | length')" = 2 ]
ev=$(events "$id")
check "the guest image's kernel version is in the events" \
    [ "$(echo "$ev" | json '[.events[] | select(.detail.detail.kernel.version? != null)] | length')" -ge 1 ]
check "the accelerator choice is in the events" \
    [ "$(echo "$ev" | json '[.events[] | select(.detail.title? // "" | startswith("accel"))] | length')" -ge 1 ]
check "the CPU hot-add went through device_add" \
    [ "$(echo "$ev" | json '[.events[] | select(.kind == "hot_add" and .detail.result.method == "device_add")] | length')" = 1 ]
check "the CPU hot-add was seen by the guest, with its latency" \
    [ "$(echo "$ev" | json '[.events[] | select(.kind == "hot_add_seen" and .detail.unit == "cpu")][0].latency_ms // [.events[] | select(.kind == "hot_add_seen" and .detail.unit == "cpu")][0].detail.latency_ms')" -gt 0 ]
check "the hypervisor's and the guest's views agree" \
    [ "$(echo "$ev" | json '[.events[] | select(.kind == "hot_add_seen") | .detail.views.agree] | all')" = true ]
code=$(curl -s -o "$E2E_DIR/console.txt" -w '%{http_code}' "$SERVER/api/v1/runs/$id/console")
check "the console is served over REST" [ "$code" = 200 ]
check "the console shows the guest's init starting the agent" \
    grep -q "hotsoak-guest: agent started" "$E2E_DIR/console.txt"

# 1b. Memory through virtio-mem's requested-size.
run_plan vm-virtio-mem
check "vm-virtio-mem verdict is pass" [ "$rc" -eq 0 ]
check "the memory went in through virtio-mem" \
    [ "$(events "$id" | json '[.events[] | select(.kind == "hot_add")][0].detail.result.method')" = virtio-mem ]

# 1c. A soak: every pass is a new VM (the last pass's console kept apart).
run_plan vm-soak
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "vm-soak verdict is pass" [ "$rc" -eq 0 -a "$(echo "$run" | json .verdict)" = pass ]
check "it ran two passes or more" [ "$(echo "$run" | json .passes)" -ge 2 ]
check "each pass hot-added its CPU" \
    [ "$(echo "$run" | json .fault_ops.hot_add_cpu)" = "$(echo "$run" | json .passes)" ]
check "the first pass's console is kept" [ -s "$E2E_DIR/state/runs/$id/console.pass1.log" ]

# 2. A pseudo-S4 replace, 3 s outage, 30 s deadlines: pass, the stall recorded.
run_plan vm-replace-pass
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "vm-replace-pass verdict is pass" [ "$rc" -eq 0 -a "$(echo "$run" | json .verdict)" = pass ]
ev=$(events "$id")
rep=$(echo "$ev" | jq -c '[.events[] | select(.kind == "replace" and .detail.method == "pseudo-s4")][0].detail')
echo "replace: $rep"
check "the hold fell while the guest's devices were suspended" \
    [ "$(echo "$rep" | json .devices_suspended)" = true ]
check "the host measured the hold at 3 s or more" \
    [ "$(echo "$rep" | json .resume.host_held_ms)" -ge 3000 ]
check "the agent recorded the stall across the cycle" \
    [ "$(echo "$rep" | json .stall_ms)" -gt 0 ]
check "the console's PM lines are in the events" \
    [ "$(echo "$ev" | json '[.events[] | select(.detail.title? // "" | test("PM: hibernation"))] | length')" -ge 1 ]

# 3. The same with a 1 s I/O deadline: fail, with io_timeout findings.
run_plan vm-replace-timeout
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "vm-replace-timeout exits 1 (fail)" [ "$rc" -eq 1 ]
check "with io_timeout findings" [ "$(echo "$run" | json .findings.by_kind.io_timeout)" -ge 1 ]

# 4. A guest panic during I/O: fail with a bugcheck naming the console line.
run_plan vm-panic
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "vm-panic exits 1 (fail)" [ "$rc" -eq 1 ]
f=$(findings "$id" | jq -c '[.findings[] | select(.kind == "bugcheck")][0]')
echo "bugcheck: $f"
check "the bugcheck's title is the console's panic line" \
    [ "$(echo "$f" | json .title)" != null ]
check "... which says Kernel panic" bash -c "echo '$(echo "$f" | json .title)' | grep -q 'Kernel panic'"
check "it came from GUEST_PANICKED, with the console's lines" \
    [ "$(echo "$f" | json '.detail.source + " " + (.detail.console.lines | length | tostring)')" != "null" ]
delay=$(echo "$f" | json '((.detail.reported_ns - .detail.qmp_event_ns) / 1000000) | floor')
echo "GUEST_PANICKED to finding: ${delay} ms"
check "the finding was made within 100 ms of GUEST_PANICKED" [ "$delay" -lt 100 ]

# 5. Corruption written into the disk image from the host, found at its offset.
"$HOTSOAK" run "$plans/vm-long.yaml" >"$E2E_DIR/corrupt.out"
id=$(run_id_of <"$E2E_DIR/corrupt.out")
check "the long run reaches its soak step" wait_step "$id" wait 120
dd if=/dev/urandom of="$E2E_DIR/state/runs/$id/disk.raw" bs=4096 seek=100 count=1 \
    conv=notrunc oflag=direct status=none
for _ in $(seq 300); do
	[ "$(curl -s "$SERVER/api/v1/runs/$id" | json .findings.by_kind.corruption)" -ge 1 ] && break
	sleep 0.1
done
"$HOTSOAK" abort "$id" >/dev/null
check "the corrupted run ends" wait_status "$id" finished 60
check "corruption verdict is fail" [ "$(curl -s "$SERVER/api/v1/runs/$id" | json .verdict)" = fail ]
check "the corruption finding names offset 409600" \
    [ "$(findings "$id" | json '[.findings[] | select(.kind == "corruption")][0].detail.offset')" = 409600 ]

# 6. An I/O host bridge hot-added with a 32MiB disk behind it: the guest
# finds the disk by its serial and the agent verifies I/O on it too.
run_plan vm-io-bridge
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "vm-io-bridge exits 0 and its verdict is pass" \
    [ "$rc" -eq 0 -a "$(echo "$run" | json .verdict)" = pass ]
check "the bridge counts as a fault operation" \
    [ "$(echo "$run" | json .fault_ops.hot_add_io_bridge)" = 1 ]
ev=$(events "$id")
seen=$(echo "$ev" | jq -c '[.events[] | select(.kind == "hot_add_seen" and .detail.unit == "io_bridge")][0].detail')
echo "io_bridge seen: $seen"
check "a hot_add_seen event for the io_bridge, with its latency" \
    [ "$(echo "$seen" | json '.latency_ms // 0')" -gt 0 ]
check "... naming a /dev/vd* disk the agent found by its serial" \
    bash -c "echo '$(echo "$seen" | json .path)' | grep -q '^/dev/vd[b-z]$'"
tgt=$(echo "$ev" | jq -c '[.events[] | select(.kind == "workload" and .detail.event == "stopped")][0].detail.targets[0]')
echo "the new disk at stop: $tgt"
check "the agent's own counters for that disk show every block verified" \
    [ "$(echo "$tgt" | json '.totals.blocks_verified // 0')" -ge 8192 ]
check "... on the disk it found" [ "$(echo "$tgt" | json .path)" = "$(echo "$seen" | json .path)" ]
check "the console shows the bridge's bus scanned" \
    bash -c "curl -s '$SERVER/api/v1/runs/$id/console' | grep -q 'pci 0000:00:11.0: PCI bridge to'"
check "the bridge's disk file went with the VM" \
    [ ! -e "$E2E_DIR/state/runs/$id/io-bridge1.raw" ]

# 7. QEMU killed mid-run: error, and the daemon keeps serving.
"$HOTSOAK" run "$plans/vm-long.yaml" >"$E2E_DIR/kill.out"
id=$(run_id_of <"$E2E_DIR/kill.out")
check "the long run reaches its soak step" wait_step "$id" wait 120
qpid=$(events "$id" | json "[.events[] | select(.kind == \"partition\")][-1].detail.result.pid // empty")
[ -n "$qpid" ] || qpid=$(pgrep -f "hotsoak-run-$id " | head -n 1)
check "QEMU's pid is known" [ -n "$qpid" ]
kill -KILL "$qpid"
check "the run ends within 15 s of the kill" wait_status "$id" finished 15
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "killed-QEMU verdict is error" [ "$(echo "$run" | json .verdict)" = error ]
check "the daemon keeps serving" [ "$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/healthz")" = 200 ]

echo "VM suite took $(( $(date +%s) - t0 )) s"
stop_daemon
e2e_done
