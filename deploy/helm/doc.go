// Package helm tests the Helm chart in deploy/helm/invitegw: it renders the chart with helm
// template (helm itself built by the go command from the module proxy, so nothing but Go is
// needed) and checks what Kubernetes would be given: probes, the termination grace period
// against the drain, the security context, credentials only from Secrets, and the optional
// objects only when enabled.
//
// The package has tests only, behind the helm build tag (`go test -tags helm ./deploy/helm`, or
// `make helm-check`, which also lints the chart), so that `go test ./...` never builds helm.
// Without the go command on PATH they are skipped, except in CI (CI=true), where that is a
// failure.
package helm
