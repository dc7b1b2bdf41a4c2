// Package kubernetes holds no code: it is the directory of crunch's
// Kubernetes manifests, and its tests validate them without a cluster.
//
// Why tests and not `kubectl apply --dry-run`: CI has no cluster, and a
// misspelled field (terminationGracePeriodSecond) is silently dropped by a
// lenient decoder, leaving a manifest that applies and does the wrong
// thing. The tests decode every manifest strictly — case-sensitive, unknown
// and duplicate fields rejected, as the API server does with
// fieldValidation=Strict — into the official Go types of its kind
// (k8s.io/api), and the KEDA ScaledObject against the OpenAPI schema of
// KEDA's own CRD (read from the KEDA module through the Go module proxy,
// rather than importing KEDA's Go API, which drags in client-go and
// controller-runtime). They also check what ties the files together: the
// kustomization lists every manifest, selectors match labels, probes and
// ports agree with the worker's and API's configuration, and the workers'
// grace period covers their drain.
package kubernetes
