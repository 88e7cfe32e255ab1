/*
 * xapi.c
 *	  What the xAPI store needs from C: the SHA-1 that the spec names for document ETags, and
 *	  the lms.xapi_iri_base setting (defined in lms.c) for SQL that must not run unloaded.
 *
 * PostgreSQL's SQL functions stop at SHA-224..512 and pgcrypto may live in any schema, so
 * the digest comes from the server's own cryptohash (the same code as its SCRAM and
 * checksums use). The data rules are in xapi_validate.c; everything else of the LRS is SQL
 * (extension/sql/87-89_xapi_*.sql).
 */
#include "postgres.h"

#include "access/transam.h"
#include "common/cryptohash.h"
#include "common/sha1.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "lms.h"

PG_FUNCTION_INFO_V1(lms_sha1_hex);

/*
 * lms.sha1_hex(bytea) -> 40 lowercase hex digits.
 */
Datum
lms_sha1_hex(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	uint8		digest[SHA1_DIGEST_LENGTH];
	char		hex[SHA1_DIGEST_LENGTH * 2 + 1];
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA1);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0
		|| pg_cryptohash_update(ctx, (uint8 *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data)) < 0
		|| pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
	{
		pg_cryptohash_free(ctx);
		elog(ERROR, "could not compute a SHA-1 digest");
	}
	pg_cryptohash_free(ctx);
	for (int i = 0; i < SHA1_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	PG_RETURN_TEXT_P(cstring_to_text(hex));
}

PG_FUNCTION_INFO_V1(lms_xapi_iri_base_get);

/*
 * lms.xapi_iri_base() -> the setting. A C function, so that calling it loads the library and
 * with it the setting's definition (current_setting() in a fresh session would not know it).
 */
Datum
lms_xapi_iri_base_get(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(lms_xapi_iri_base ? lms_xapi_iri_base : ""));
}

PG_FUNCTION_INFO_V1(lms_xapi_oldest_writer_start);

/*
 * lms.xapi_oldest_writer_start() -> the start of the oldest transaction of this database that
 * holds a transaction id (it may be storing statements stamped with that start), or NULL.
 * What `min(xact_start) FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND datname =
 * current_database()` answers, read from the backends' status without building the view's rows.
 */
Datum
lms_xapi_oldest_writer_start(PG_FUNCTION_ARGS)
{
	int			n = pgstat_fetch_stat_numbackends();
	TimestampTz oldest = 0;
	bool		found = false;

	for (int i = 1; i <= n; i++)
	{
#if PG_VERSION_NUM >= 160000
		LocalPgBackendStatus *b = pgstat_get_local_beentry_by_index(i);
#else
		LocalPgBackendStatus *b = pgstat_fetch_stat_local_beentry(i);
#endif
		TimestampTz start;

		if (b == NULL || !TransactionIdIsValid(b->backend_xid)
			|| b->backendStatus.st_databaseid != MyDatabaseId)
			continue;
		start = b->backendStatus.st_xact_start_timestamp;
		if (start != 0 && (!found || start < oldest))
		{
			oldest = start;
			found = true;
		}
	}
	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(oldest);
}
