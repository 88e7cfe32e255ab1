/*
 * identity.h
 *	  Token-to-user resolution shared by every C API function.
 */
#ifndef LMS_IDENTITY_H
#define LMS_IDENTITY_H

#include "postgres.h"

#define LMS_TOKEN_HASH_LEN 32

/* Who is calling: user_id 0 when the token is missing, unknown, expired, revoked or suspended. */
typedef struct LmsCaller
{
	int64		user_id;
	char		role[16];		/* "student", "instructor", "admin" or "" */
} LmsCaller;

/* SHA-256 of the token text, as stored in lms.sessions.token_hash. */
extern void lms_token_hash(const char *token, size_t len, uint8 *out);

/* Resolve a bearer token (NULL allowed). Connects to SPI itself (nesting is fine). */
extern void lms_resolve_caller(text *token, LmsCaller *caller);

#endif							/* LMS_IDENTITY_H */
