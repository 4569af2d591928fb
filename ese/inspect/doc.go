// Package inspect examines ESE files at rest the way esentutl's /mh, /ml,
// /mk and /k modes do: it classifies every file of a path (database, temp
// database, flush map, log of any role, checkpoint, other), dumps their
// headers, runs a full checksum pass over database pages, flush-map pages
// and log segments, checks the generation chain of each log stream and ties
// databases and checkpoints to their stream. The result is a Report, which
// the CLI prints as text (WriteText) or as JSON.
//
// # Verdicts
//
// Inspect fails an instance exactly when a backup of it fails (the engine
// applies the same rule; TestInspectAgreesWithBackup checks both sides). A
// verification failure goes to Report.Errors and makes Report.OK false: a
// data page that fails its checksum, a database header whose two copies are
// both bad, a checkpoint whose two copies are both bad or whose log
// signature is not its logs' (JET_errBadCheckpointSignature) or whose
// generation is not among the logs present (JET_errMissingFileToBackup), a
// log from the checkpoint's generation on (the ones a backup copies and
// recovery replays) that does not verify, is misnamed, or does not link to
// its predecessor, a log out of place above the current one, a streamed
// backup copy whose trailer is bad or belongs to another database, and a
// flush map that does not verify (the one file a backup does not copy that
// inspect still fails: ESE may refuse to attach its database).
// Things ESE copes with, or that only matter for a later recovery, are
// Report.Warnings and leave OK alone: one bad copy of a shadowed header
// (ESE reads both copies and uses the good one; a checkpoint of 4 KiB is a
// primary without shadow), a log before the checkpoint that is damaged,
// misnamed or missing, or the link from the checkpoint's generation to its
// predecessor (neither recovery nor a backup reads them again), a tmp or
// reserve log that is garbage (ESE recreates it; it is never part of the
// chain), a database whose log signature matches no stream of its
// directory, log generations a dirty database needs that are not in its
// directory.
//
// Temp databases: ESE does not checksum the pages of its temp database. A
// file whose header says so (file type 5) has its pages tallied like any
// database, but pages without a valid checksum are counted in pages_bad and
// reported as one warning, not as errors. The NTDS sample temp.edb however
// carries file type 1 (database) in its header, so nothing tells it apart
// from a damaged database: its 234 unchecksummed pages are errors and the
// CLI exits 1, matching INVENTORY.md's tally. A verifier should not vouch
// for pages it cannot verify.
//
// # JSON schema (schema_version 1)
//
// Report fields are stable; new fields may be added, none renamed. All
// names are snake_case, every array is present (possibly empty), times are
// strings "2006-01-02 15:04:05.000Z" ("unset" when zero), log positions are
// objects {gen, isec, ib, text} with text "(gen,isec,ib)" in hex as
// esentutl prints them, signatures are {random, created, computer}.
//
//	{
//	  "schema_version": 1, "path": "...", "verified": true, "ok": false,
//	  "databases": [{
//	    "file", "gunzipped", "size", "file_type", "file_type_name", "temp",
//	    "page_size", "state", "state_name", "consistent",
//	    "format" ("0x620,110,240"), "format_version", "format_revision",
//	    "format_update_minor", "created_format" ("0x620,20"),
//	    "db_time", "dbid", "os_version", "repair_count",
//	    "sign_db", "sign_log",
//	    "gen_min_required", "gen_max_required", "gen_max_committed",
//	    "gen_min_consistent", "logtime_gen_max_required", "logtime_gen_max_committed",
//	    "lgpos_consistent", "logtime_consistent", "lgpos_attach", "logtime_attach",
//	    "lgpos_detach", "logtime_detach",
//	    "bkinfo_full_prev", "bkinfo_inc_prev", "bkinfo_diff_prev", "bkinfo_copy_prev",
//	    "bkinfo_full_cur", "bkinfo_snapshot_cur"   // {gen_low, gen_high, mark, mark_time, type}
//	    "header_primary_ok", "header_shadow_ok", "header_identical", "header_used_shadow",
//	    "streamed_copy", "trailer" (object or null),
//	    "pages_verified", "pages_total", "pages_ok", "pages_bad", "pages_uninitialized",
//	    "bad_pages": [{page, jet_err, name, reason, block, bit, actual_pgno}],  // first 1000
//	    "page_runs": [{first, last, status}],   // only with Options.Pages
//	    "log_stream", "required_logs"
//	  }],
//	  "logs": [{
//	    "file", "gunzipped", "size", "role" (archived|current|tmp|reserve|unnamed),
//	    "base", "empty", "header_ok", "generation", "version", "cb_sec",
//	    "csec_lg_file", "page_size", "created", "prev_gen", "sign_log",
//	    "lgpos_checkpoint", "circular_logging", "verified", "segments_ok",
//	    "segments_empty", "segments_shadow", "last_segment", "records",
//	    "attached": [{dbid, path, sign_db, lgpos_attach, lgpos_consistent}],
//	    "in_chain", "chain" ("ok" | error text | "not in chain: ..."),
//	    "chain_error_code" (JET_err number, 0 when ok), "chain_error_name"
//	  }],
//	  "checkpoints": [{
//	    "file", "gunzipped", "size", "base", "checkpoint", "sign_log",
//	    "last_full_backup_checkpoint", "full_backup", "full_backup_time",
//	    "inc_backup", "inc_backup_time", "db_consistency", "primary_ok",
//	    "shadow_ok", "lcsec_lg_file", "attach_present", "attached", "stream"
//	  }],
//	  "flush_maps": [{file, gunzipped, size, header_ok, pages_total, pages_ok, pages_bad, pages_uninitialized}],
//	  "streams": [{
//	    "dir", "base", "first_gen", "last_gen", "logs", "sign_log", "chain",
//	    "chain_error_code", "chain_error_name", "checkpoint", "checkpoint_gen",
//	    "databases"
//	  }],
//	  "others": [{file, size, note}],
//	  "errors":   [{file, op, jet_err, name, page, message, io}],
//	  "warnings": [{file, op, jet_err, name, page, message, io}]
//	}
//
// jet_err is the JET_err number (e.g. -1018), name its ESE name
// ("JET_errReadVerifyFailure"), page the logical page number (0 when the
// problem is not about one page), io true when the problem is an I/O
// failure rather than a verdict on the data.
package inspect
