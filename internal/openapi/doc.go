// Package openapi serves the OpenAPI 3.1 document of the crunch HTTP API and
// checks real traffic against it.
//
// # The document
//
// openapi.json is written by hand from the external contract (CONTRACT.md),
// not generated from the handlers: it is the API's promise to its users, so
// it is reviewed as text, and a generator would only describe whatever the
// code happens to do. [JSON] returns the embedded bytes, served as-is at
// GET /openapi.json; [Load] parses and validates them with kin-openapi.
//
// It is an OpenAPI 3.1 document and uses JSON Schema 2020-12 idioms: nullable
// fields are type arrays (["string", "null"]) or anyOf with {"type": "null"},
// schemas carry "examples" arrays, webhook deliveries are described under the
// top-level "webhooks" object, and the Job schema ties its "result" to its
// "kernel" and its "result", "error" and "finished_at" to its "status" with
// if/then. Response objects are closed (additionalProperties: false) where
// the contract fixes their fields, so a renamed or stray field is caught.
//
// # Keeping it true
//
// A hand-written document rots unless something checks it. Three things do:
//
//   - A coverage test holds a table copied from the contract (every method,
//     path and status code, the required headers, every field of Job, Chunk,
//     Delivery and the kernel results) and fails when the document lacks one.
//   - [ValidateResponse] checks a real response against the document. It is
//     meant to run in the API tests on every response they get, so that a
//     handler that drifts from the document fails a test.
//   - [ValidateWebhook] does the same for webhook deliveries.
//
// # kin-openapi and OpenAPI 3.1
//
// kin-openapi v0.152.0 reads 3.1 documents natively: it parses "webhooks",
// type arrays, "const", "if"/"then", "examples" and the summary/description
// siblings of a Reference Object, and for a document whose "openapi" field is
// 3.1.x its Validate and openapi3filter switch on their JSON Schema 2020-12
// validator (santhosh-tekuri/jsonschema) without any option. A few gaps, and
// how this package closes them:
//
//   - Schema "examples" arrays are not checked by Validate (only "example" and
//     media-type examples are); the tests check every one of them.
//   - openapi3filter has no decoder for text/event-stream. The events response
//     has no schema in the document (its events are described by the
//     ServerSentEvent component instead), and [ValidateResponse] parses the
//     stream itself and validates each event against ServerSentEvent.
//   - A binary body is decoded only for a {"type": "string", "format":
//     "binary"} schema, a 3.0 idiom. The artifact's media types have no schema,
//     as OpenAPI 3.1 recommends for raw bytes, so openapi3filter checks only the
//     Content-Type; [ValidateResponse] also checks the PNG signature.
//   - Webhooks have no router. [ValidateWebhook] builds the route by hand from
//     the event's "type" and runs openapi3filter.ValidateRequest on it.
//   - OpenAPI 3.1 lets a Reference Object override the description of what it
//     points to, but kin-openapi applies that override to the shared component
//     itself, so every other use of the component shows it too. The document
//     therefore gives each operation-specific response (a 409 that means
//     "already finished" here and "not ready" there) its own named component
//     instead.
//
// # Generators
//
// The document must also generate working clients: the codegen subpackage's
// test runs the pinned oapi-codegen on it, builds the client in a module of
// its own and uses it against a real API. Two idioms of the document are
// there for generators:
//
//   - The webhook header parameters (webhook-id, webhook-timestamp,
//     webhook-signature) are written inline in each webhook operation, not
//     as components/parameters: oapi-codegen v2.8.2 prunes the components
//     that no path uses (it does not look into "webhooks"), and then names
//     types that no longer exist.
//   - Where an allOf member narrows a property (ValidationProblem's status
//     and errors, each webhook's type), it restates the property's type:
//     oapi-codegen merges allOf members property by property, the last
//     one winning, so a bare {"const": 422} would become an untyped field.
//
// Routes are found with kin-openapi's legacy router, which needs no extra
// module and matches any host (the document has no "servers", so it applies
// to whatever host serves it).
package openapi
