# schemathesis hooks (SCHEMATHESIS_HOOKS, set by tools/fuzz/fuzz.ts).
import schemathesis

# `POST /v1/evaluations` also takes the compact JWS as the raw body: send it as text.
schemathesis.serializer.alias("application/jose", "text/plain")
