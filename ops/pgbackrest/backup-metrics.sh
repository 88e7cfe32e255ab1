#!/usr/bin/env bash
# pgBackRest figures for Prometheus, through the node exporter's textfile collector
# (Debian's prometheus-node-exporter reads /var/lib/prometheus/node-exporter/*.prom):
#
#   backup-metrics.sh OUTFILE [pgbackrest options...]
#   */5 * * * *  postgres  /usr/local/bin/lms-backup-metrics /var/lib/prometheus/node-exporter/pgbackrest.prom
#
# Writes, per stanza (and per backup type: full, diff, incr):
#   lms_backup_last_completed_timestamp_seconds{stanza,type}   when the newest backup finished
#   lms_backup_last_duration_seconds{stanza,type}              how long it took
#   lms_backup_last_repository_bytes{stanza,type}              its size in the repository
#   lms_backup_sets{stanza}                                    backups held
#   lms_backup_stanza_ok{stanza}                               1 when pgbackrest info reports status ok
# The file is replaced atomically (written beside, then renamed); when pgbackrest info fails
# nothing is written, the figures age, and LmsBackupTooOld fires.
set -euo pipefail
out=${1:?usage: backup-metrics.sh OUTFILE [pgbackrest options...]}
shift
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
pgbackrest "$@" --output=json info | python3 -c '
import json, sys
stanzas = json.load(sys.stdin)
metrics = {
    "lms_backup_last_completed_timestamp_seconds": ("gauge", "When the newest backup of this type finished (Unix time)."),
    "lms_backup_last_duration_seconds": ("gauge", "How long the newest backup of this type took."),
    "lms_backup_last_repository_bytes": ("gauge", "Size in the repository of the newest backup of this type."),
    "lms_backup_sets": ("gauge", "Backups held in the repository."),
    "lms_backup_stanza_ok": ("gauge", "1 when pgbackrest info reports the stanza ok."),
}
lines = {name: [] for name in metrics}
for st in stanzas:
    name = st["name"]
    newest = {}
    for b in st.get("backup", []):
        newest[b["type"]] = b          # info lists backups oldest first
    for typ, b in sorted(newest.items()):
        labels = "{stanza=\"%s\",type=\"%s\"}" % (name, typ)
        lines["lms_backup_last_completed_timestamp_seconds"].append("%s %d" % (labels, b["timestamp"]["stop"]))
        lines["lms_backup_last_duration_seconds"].append("%s %d" % (labels, b["timestamp"]["stop"] - b["timestamp"]["start"]))
        lines["lms_backup_last_repository_bytes"].append("%s %d" % (labels, b["info"]["repository"]["delta"]))
    lines["lms_backup_sets"].append("{stanza=\"%s\"} %d" % (name, len(st.get("backup", []))))
    lines["lms_backup_stanza_ok"].append("{stanza=\"%s\"} %d" % (name, 1 if st["status"]["code"] == 0 else 0))
for name, (typ, help_) in metrics.items():
    print("# HELP %s %s" % (name, help_))
    print("# TYPE %s %s" % (name, typ))
    for l in lines[name]:
        print(name + l)
' >"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
