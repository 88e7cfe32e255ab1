/*
 * openapi.c — gateway/openapi.json embedded in the binary at build time.
 *
 * The document is served as is at /api/v1/openapi.json; embedding it means an installed
 * binary needs no data file and can never serve a document of another version.
 * OPENAPI_PATH is set by the Makefile to the absolute path of openapi.json; the assembler
 * defines gw_openapi (the bytes, NUL-terminated) and gw_openapi_len (their count).
 */
#include "gw.h"

#ifndef OPENAPI_PATH
#define OPENAPI_PATH "openapi.json"
#endif

__asm__(".section .rodata\n"
        ".global gw_openapi\n"
        ".type gw_openapi, @object\n"
        ".balign 16\n"
        "gw_openapi:\n"
        ".incbin \"" OPENAPI_PATH "\"\n"
        "gw_openapi_end:\n"
        ".byte 0\n"
        ".global gw_openapi_len\n"
        ".type gw_openapi_len, @object\n"
        ".balign 8\n"
        "gw_openapi_len:\n"
        ".quad gw_openapi_end - gw_openapi\n"
        ".previous\n");
