/*
 * contract.h
 *	  The fixed parts of the REST contract (shared/API.md) that both the gateway and the
 *	  extension write: the problem document's type address and titles, the texts of the
 *	  problems both answer, and the syntax of an id in a path. One source, compiled into both
 *	  (extension/api.c and the SQL functions built on it; gateway/http.c and routes.c), so a
 *	  problem the gateway writes and one PostgreSQL writes cannot drift apart.
 *
 *	  Plain C99 (no PostgreSQL or civetweb headers): the gateway includes it as it is.
 */
#ifndef LMS_CONTRACT_H
#define LMS_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

/* A problem's "type": this address followed by its code with '_' written '-'. */
#define LMS_PROBLEM_TYPE_BASE "https://lms.example/problems/"

/* Problems both sides answer, and the extension's fixed ones. */
#define LMS_DETAIL_UNAUTHENTICATED "A valid access token is required."
#define LMS_DETAIL_INVALID_ID "Ids are integers between 1 and 9223372036854775807."
#define LMS_DETAIL_BODY_NOT_JSON "The request body is not valid JSON."
#define LMS_DETAIL_BODY_NOT_OBJECT "The request body must be a JSON object."
#define LMS_DETAIL_VALIDATION_FAILED "The request has invalid fields."

/* The reason phrase of an HTTP status: a status line's and a problem document's "title". */
static inline const char *
lms_status_title(int status)
{
	switch (status)
	{
		case 200: return "OK";
		case 201: return "Created";
		case 202: return "Accepted";
		case 204: return "No Content";
		case 304: return "Not Modified";
		case 400: return "Bad Request";
		case 401: return "Unauthorized";
		case 403: return "Forbidden";
		case 404: return "Not Found";
		case 405: return "Method Not Allowed";
		case 409: return "Conflict";
		case 410: return "Gone";
		case 411: return "Length Required";
		case 413: return "Payload Too Large";
		case 414: return "URI Too Long";
		case 415: return "Unsupported Media Type";
		case 422: return "Unprocessable Entity";
		case 429: return "Too Many Requests";
		case 431: return "Request Header Fields Too Large";
		case 500: return "Internal Server Error";
		case 501: return "Not Implemented";
		case 502: return "Bad Gateway";
		case 503: return "Service Unavailable";
		case 504: return "Gateway Timeout";
		case 505: return "HTTP Version Not Supported";
		default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
	}
}

/*
 * An id in a path: decimal digits only, 1 to 2^63-1, leading zeros allowed (and dropped).
 * Returns the id, 0 when the text is not one.
 */
static inline uint64_t
lms_parse_id(const char *s, size_t n)
{
	uint64_t	v = 0;
	size_t		i = 0,
				digits;

	if (n == 0)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (s[k] < '0' || s[k] > '9')
			return 0;
	while (i < n && s[i] == '0')
		i++;
	digits = n - i;
	if (digits == 0 || digits > 19)
		return 0;
	for (; i < n; i++)
		v = v * 10 + (uint64_t) (s[i] - '0');	/* 19 digits fit in 64 bits unsigned */
	return v > (uint64_t) INT64_MAX ? 0 : v;
}

#endif							/* LMS_CONTRACT_H */
