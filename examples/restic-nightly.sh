#!/usr/bin/env bash
# Nightly full + hourly incremental ESE backups into restic with esesnap.
#
# cron:   0 2 * * *    restic-nightly.sh full
#         0 3-23 * * * restic-nightly.sh incremental
#
# The full backup starts a new chain and truncates the logs it made
# unnecessary; each incremental continues the chain and truncates again. Logs
# are truncated only after restic has stored the snapshot. RESTIC_REPOSITORY
# and RESTIC_PASSWORD_FILE (or RESTIC_PASSWORD) configure restic as usual.
set -euo pipefail

kind="${1:-incremental}"
source_dir="${ESE_SOURCE:-/var/lib/app/ese}"

case "$kind" in
full | incremental) ;;
*) echo "usage: $0 full|incremental" >&2; exit 2 ;;
esac

# --page-delta: a nightly full stores only the pages changed since its base
# (the first full, and again whenever more than half the pages changed), so
# the repository grows by about the changed pages instead of by every
# restic chunk that holds one. Restoring needs the base: keep it below.
esesnap backup --source "$source_dir" --kind "$kind" --writable --truncate-logs --page-delta \
	--restic-repo "${RESTIC_REPOSITORY:?set RESTIC_REPOSITORY}" --json >"/var/log/esesnap-$kind.json"

# Retention by restore points: the last 48 hourly points, one a day for two
# weeks, one a week for three months. esesnap forget keeps everything a kept
# point needs (its full backup, every incremental before it, the bases of
# page deltas), which plain restic forget --keep-daily does not; it touches
# this host's esesnap snapshots only, and prunes what nothing needs.
if [ "$kind" = full ]; then
	esesnap forget --restic-repo "$RESTIC_REPOSITORY" --host "$(hostname)" \
		--keep-hourly 48 --keep-daily 14 --keep-weekly 13 --prune
fi
