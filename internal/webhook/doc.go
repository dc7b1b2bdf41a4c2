// Package webhook validates, signs and delivers crunch's webhooks, following
// the Standard Webhooks specification (standardwebhooks.com).
//
// # Events and payloads
//
// When an event a job's webhook asks for happens, [NewPayload] builds its
// delivery: the body {"type", "timestamp", "data": Job} is fixed then and
// sent unchanged on every attempt, under a webhook id derived from the job
// id and the event ([WebhookID]). The same id on every retry lets receivers
// drop duplicates; as the asynq task id it also makes announcing an event
// twice harmless.
//
// # Signing
//
// Each attempt is signed anew, with its own webhook-timestamp:
// webhook-signature is "v1," + base64(HMAC-SHA256(key,
// "{webhook-id}.{webhook-timestamp}.{body}")). Without tenants the key is
// that of the master secret; with tenants each tenant has its own secret,
// derived from the master key and the tenant's name ([Secret]), so no
// tenant can forge another's deliveries. Receivers check deliveries with
// [Verify] or any Standard Webhooks library (see the README, "Webhooks").
//
// # Delivery and retries
//
// A [Deliverer] handles the asynq tasks of deliveries: one task run is one
// attempt, recorded in the job's deliveries whatever its outcome. A 2xx
// answer ends the delivery; 410 Gone ends it too, unsuccessfully; any other
// answer, a redirect (never followed) or no answer within 15 s is retried
// after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h
// ([Deliverer.RetryDelay], [Schedule]), later if the receiver's Retry-After
// asks for it, and given up after the tenth attempt.
//
// # Server-side request forgery
//
// Targets are checked twice: a literal address at submission ([CheckURL]),
// and every address actually dialled at delivery ([NewTransport]), because
// a host name's DNS answer can change between the two, or between a
// resolver's check and the connection (DNS rebinding). Proxies from the
// environment are ignored, since they would connect on crunch's behalf.
package webhook
