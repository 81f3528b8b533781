# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# torture-failover.sh: the fault campaign's failover measurement, sourced
# by scripts/torture.sh (Documentation/torture.md "Failover time"): the
# kill's time on the history's clock, whether the node killed was leading,
# and the result line's failover fields from a run's history.

# CLOCK_MONOTONIC (the history's clock) of a CLOCK_REALTIME reading in
# us ("${EPOCHREALTIME/./}", read with no process started): the offset
# between the clocks from the closest of 3 brackets around t_now_ns
t_mono_of() {
	local a b m w _ best=''
	for _ in 1 2 3; do
		a=${EPOCHREALTIME/./}; m=$(t_now_ns); b=${EPOCHREALTIME/./}
		w=$((b - a))
		[ -n "$best" ] && [ $w -ge "$best" ] && continue
		best=$w T_OFF=$((m - (a + b) * 500))
	done
	echo $(($1 * 1000 + T_OFF))
}

# was node K the leader when it died?  The last role line its log has
# from its current run (truthd logs every change of role or leader)
t_was_leader() {
	awk '/^=== .* start: / { r = "" } /: info: (leader of term|following node|[a-z]+ in term .*, no leader)/ { r = $0 }
	     END { exit !(r ~ /leader of term/) }' "$CL_DIR/n$1/log"
}

# failover: from each kill of a leader to the completion of the first write
# acknowledged that was invoked after it (the new leader's first commit a
# client saw), in ms.  Prints the result line's failover fields:
#   failover_ms=A,B,...   the leader killed alone in its step
#   failover_other_ms=... other nemeses in the same step (a pause or a cut
#                         may keep a quorum away until it is undone)
#   failover_cut=N        no commit before the clients stopped, less than
#                         3 s after the kill: not measured
#   failover_raced=N      aimed at the leader a poll named, which had lost
#                         the lead by the kill: no failover, not counted
# (a kill with no commit though the clients went on 3 s is "none")
t_failover() {
	awk -v F="$2" '
	BEGIN { while ((getline l < F) > 0) { split(l, p, " "); t[++n] = p[1]; kind[n] = p[3]; other[n] = (p[4] > 1) } }
	$1 != "final" { v = (NF == 8) ? $5 : $4; if (v + 0 > last) last = v + 0 }
	$1 != "final" && ($2 == "write" || $2 == "incr") && $8 == "ok" { inv[++m] = $5; done[m] = $6 }
	END {
		alone = ""; oth = ""; cut = 0; raced = 0
		for (i = 1; i <= n; i++) {
			if (kind[i] == "raced") { raced++; continue }
			best = -1
			for (j = 1; j <= m; j++)
				if (inv[j] >= t[i] && (best < 0 || done[j] < best)) best = done[j]
			if (best < 0 && last - t[i] < 3000000000) { cut++; continue }
			v = best < 0 ? "none" : int((best - t[i]) / 1000000)
			if (other[i]) oth = oth (oth == "" ? "" : ",") v
			else alone = alone (alone == "" ? "" : ",") v
		}
		printf "failover_ms=%s failover_other_ms=%s failover_cut=%d failover_raced=%d\n",
			(alone == "" ? "-" : alone), (oth == "" ? "-" : oth), cut, raced
	}' "$1"
}
