/*
 * identity.c
 *	  Tokens and sessions: the token-to-user resolution every API function starts with, and
 *	  the random token a login issues. Passwords are hashed by pgcrypto (bcrypt) in SQL;
 *	  only the SHA-256 of a token is ever stored.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/base64.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "direct.h"
#include "identity.h"
#include "lms.h"

/* Longest token we bother hashing; ours are 43 characters. */
#define LMS_TOKEN_MAX_LEN 512
#define LMS_TOKEN_RANDOM_BYTES 32

/*
 * SHA-256 of a token. The token is high-entropy random data, so a plain fast hash is the right
 * tool: it makes a stolen sessions table useless without slowing down every request.
 */
void
lms_token_hash(const char *token, size_t len, uint8 *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) token, len) < 0 ||
		pg_cryptohash_final(ctx, out, PG_SHA256_DIGEST_LENGTH) < 0)
	{
		pg_cryptohash_free(ctx);
		elog(ERROR, "could not compute SHA-256 of a token");
	}
	pg_cryptohash_free(ctx);
}

/*
 * Resolve a token to (user_id, role): the session by its primary key, then its user by theirs,
 * both direct index lookups (direct.c) under the statement's snapshot. Every API call pays
 * this: through SPI, connecting, executing a kept plan and finishing cost about 100,000
 * instructions a call (callgrind), five times the two lookups. A session counts while it is
 * not revoked and not expired (expires_at after lms.clock()), and its user is active.
 */
void
lms_resolve_caller(text *token, LmsCaller *caller)
{
	static const int uc[] = {USER_ROLE, USER_STATUS};
	uint8		hash[LMS_TOKEN_HASH_LEN];
	bytea	   *hash_datum;
	size_t		len;
	Snapshot	snap;
	LmsKey		key;
	LmsScan    *scan;
	int64		user_id = 0;
	bool		live = false,
				isnull;
	Datum		uv[lengthof(uc)];
	bool		un[lengthof(uc)];

	caller->user_id = 0;
	caller->role[0] = '\0';
	if (token == NULL)
		return;
	len = VARSIZE_ANY_EXHDR(token);
	if (len == 0 || len > LMS_TOKEN_MAX_LEN)
		return;

	lms_token_hash(VARDATA_ANY(token), len, hash);
	hash_datum = (bytea *) palloc(VARHDRSZ + LMS_TOKEN_HASH_LEN);
	SET_VARSIZE(hash_datum, VARHDRSZ + LMS_TOKEN_HASH_LEN);
	memcpy(VARDATA(hash_datum), hash, LMS_TOKEN_HASH_LEN);

	/* the calling statement's snapshot, as a read-only SPI query would use */
	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	key.strategy = BTEqualStrategyNumber;
	key.value = PointerGetDatum(hash_datum);
	scan = lms_scan_begin(LMS_SESSIONS_PKEY, snap, 1, &key, ForwardScanDirection);
	if (lms_scan_next(scan))
	{
		(void) lms_scan_get(scan, SESSION_REVOKED, &isnull);
		if (isnull)
		{
			Datum		expires = lms_scan_get(scan, SESSION_EXPIRES, &isnull);

			live = !isnull && DatumGetTimestampTz(expires) > lms_now();
			user_id = DatumGetInt64(lms_scan_get(scan, SESSION_USER, &isnull));
		}
	}
	lms_scan_end(scan);
	if (!live || !lms_fetch(LMS_USERS_PKEY, &user_id, snap, lengthof(uc), uc, uv, un) || un[0] || un[1])
		return;
	if (strcmp(TextDatumGetCString(uv[1]), "active") != 0)
		return;
	caller->user_id = user_id;
	text_to_cstring_buffer(DatumGetTextPP(uv[0]), caller->role, sizeof(caller->role));
}

/*
 * lms.caller(token) -> lms.caller: the SQL face of lms_resolve_caller, used by the API
 * functions written in SQL. Both fields are NULL for anyone who is not a live session.
 */
PG_FUNCTION_INFO_V1(lms_caller);
Datum
lms_caller(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {true, true};
	LmsCaller	caller;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "lms.caller must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);

	lms_resolve_caller(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0), &caller);
	if (caller.user_id != 0)
	{
		values[0] = Int64GetDatum(caller.user_id);
		values[1] = CStringGetTextDatum(caller.role);
		nulls[0] = nulls[1] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * lms.new_token() -> text: 256 bits from the operating system's strong random source,
 * base64url without padding (43 characters), ready for an Authorization header or a cookie.
 */
PG_FUNCTION_INFO_V1(lms_new_token);
Datum
lms_new_token(PG_FUNCTION_ARGS)
{
	uint8		raw[LMS_TOKEN_RANDOM_BYTES];
	char		enc[64];
	int			n,
				i,
				out = 0;

	if (!pg_strong_random(raw, sizeof(raw)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random token"),
				 errdetail("The operating system's random source failed.")));
	n = pg_b64_encode((const char *) raw, sizeof(raw), enc, sizeof(enc));
	if (n < 0)
		elog(ERROR, "base64 encoding failed");
	for (i = 0; i < n; i++)
	{
		char		c = enc[i];

		if (c == '=')
			continue;
		enc[out++] = (c == '+') ? '-' : (c == '/') ? '_' : c;
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(enc, out));
}

/*
 * lms.token_hash(token) -> bytea: the stored form of a token (SHA-256), so that SQL code that
 * creates or revokes sessions hashes exactly as the C lookup does.
 */
PG_FUNCTION_INFO_V1(lms_token_hash_sql);
Datum
lms_token_hash_sql(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	bytea	   *res = (bytea *) palloc(VARHDRSZ + LMS_TOKEN_HASH_LEN);

	SET_VARSIZE(res, VARHDRSZ + LMS_TOKEN_HASH_LEN);
	lms_token_hash(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), (uint8 *) VARDATA(res));
	PG_RETURN_BYTEA_P(res);
}

/*
 * lms.bcrypt_cost(): the current lms.bcrypt_cost. The password SQL reads the setting through
 * this C function rather than current_setting(), which fails in a fresh backend that has not
 * loaded the library (and so has not defined the setting) yet.
 */
PG_FUNCTION_INFO_V1(lms_bcrypt_cost_sql);
Datum
lms_bcrypt_cost_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(lms_bcrypt_cost);
}
