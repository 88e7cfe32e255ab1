-- GET /health: no database, the HTTP-only ceiling of the gateway.
wrk.method = "GET"
wrk.path = "/health"
