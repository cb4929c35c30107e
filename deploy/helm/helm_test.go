// The chart tests need helm, which the go command builds from source the first time (minutes
// of both cores): behind the helm tag they stay out of `go test ./...`, whose packages run side
// by side (deploytest's load runs among them), and run as `make helm-check`, the last step of
// `make test`, once its lint has built helm.

//go:build helm

package helm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// helmModule is the helm the tests and `make helm-check` run, built by the go command from the
// module proxy; TestMakefileRunsTheSameHelm keeps the two in step.
const helmModule = "helm.sh/helm/v3/cmd/helm@v3.22.0"

// chart is the chart's directory, relative to this package.
const chart = "invitegw"

// credentialVars are the variables that hold secrets (config/config.go): none may ever have a
// plain value in a rendered manifest.
var credentialVars = []string{
	"INVITEGW_REDPANDA_TOKEN", "INVITEGW_REDPANDA_CLIENT_ID", "INVITEGW_REDPANDA_CLIENT_SECRET",
	"INVITEGW_ELASTIC_API_KEY",
	"INVITEGW_FRONTIER_TOKEN", "INVITEGW_FRONTIER_CLIENT_ID", "INVITEGW_FRONTIER_CLIENT_SECRET",
	"INVITEGW_API_KEYS",
	"INVITEGW_REDIS_PASSWORD", "INVITEGW_REDIS_URL",
}

// helmBin is the helm TestMain built, or "" when the go command is missing.
var helmBin string

// TestMain builds helm once for the package: `go run -exec cp` has the go command build helm
// (or take it from the build cache) and copy the executable out instead of running it, so each
// rendering below costs helm's own run, not the go command's staleness check of helm's
// dependencies (about 1.5 s each).
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "helm: the go command is not on PATH; the chart tests need it to build helm")
			return 1
		}
		return m.Run() // every test skips
	}
	dir, err := os.MkdirTemp("", "invitegw-helm-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "helm")
	cmd := exec.Command("go", "run", "-exec", "cp", helmModule, bin)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "helm: building %s: %v\n", helmModule, err)
		return 1
	}
	helmBin = bin
	return m.Run()
}

// helm runs helm with args in this directory and returns its standard output, or an error
// carrying its standard error.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if helmBin == "" {
		t.Skip("the go command is not on PATH; it builds helm")
	}
	cmd := exec.Command(helmBin, args...)
	// No helm configuration or plugins of whoever runs the tests.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// manifests are the objects of one rendering, by kind (each kind is rendered at most once).
type manifests map[string]map[string]any

// render runs helm template on the chart with the given flags (--set ..., -f ...) and decodes
// every object, failing the test if helm fails.
func render(t *testing.T, flags ...string) manifests {
	t.Helper()
	out, err := helm(t, append([]string{"template", "rel", chart, "--namespace", "ns"}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	objs := manifests{}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("decoding helm template's output: %v\n%s", err, out)
		}
		if obj == nil {
			continue
		}
		kind, _ := obj["kind"].(string)
		if _, dup := objs[kind]; dup {
			t.Fatalf("two objects of kind %s", kind)
		}
		objs[kind] = obj
	}
	return objs
}

// get walks obj along path (map keys, or list indexes as ints) and fails the test when a step
// is missing.
func get(t *testing.T, obj any, path ...any) any {
	t.Helper()
	cur := obj
	for i, step := range path {
		switch s := step.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a map at %v", path, path[:i])
			}
			if cur, ok = m[s]; !ok {
				t.Fatalf("%v: no %q at %v", path, s, path[:i])
			}
		case int:
			l, ok := cur.([]any)
			if !ok || s >= len(l) {
				t.Fatalf("%v: no item %d at %v", path, s, path[:i])
			}
			cur = l[s]
		}
	}
	return cur
}

// container is the Deployment's only container.
func (m manifests) container(t *testing.T) map[string]any {
	t.Helper()
	d, ok := m["Deployment"]
	if !ok {
		t.Fatal("no Deployment rendered")
	}
	cs := get(t, d, "spec", "template", "spec", "containers").([]any)
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	return cs[0].(map[string]any)
}

// env is the container's env by name.
func (m manifests) env(t *testing.T) map[string]map[string]any {
	t.Helper()
	env := map[string]map[string]any{}
	for _, e := range get(t, m.container(t), "env").([]any) {
		e := e.(map[string]any)
		name := e["name"].(string)
		if _, dup := env[name]; dup {
			t.Fatalf("env %s twice", name)
		}
		env[name] = e
	}
	return env
}

func (m manifests) kinds() []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestDefaults(t *testing.T) {
	m := render(t)
	if got, want := m.kinds(), []string{"Deployment", "Service"}; !slices.Equal(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	d := m["Deployment"]
	if got := get(t, d, "spec", "replicas"); got != 2 {
		t.Errorf("replicas %v, want 2", got)
	}
	c := m.container(t)
	if got := c["image"]; got != "localhost/invitegw:0.1.0" {
		t.Errorf("image %v", got)
	}
	ports := []any{map[string]any{"name": "http", "containerPort": 8080, "protocol": "TCP"}}
	if got := c["ports"]; !reflect.DeepEqual(got, ports) {
		t.Errorf("ports %v, want %v", got, ports)
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		want := map[string]any{"path": path, "port": "http"}
		if got := get(t, c, probe, "httpGet"); !reflect.DeepEqual(got, want) {
			t.Errorf("%s.httpGet %v, want %v", probe, got, want)
		}
	}
	securityContext := map[string]any{
		"runAsNonRoot":             true,
		"runAsUser":                65532,
		"runAsGroup":               65532,
		"readOnlyRootFilesystem":   true,
		"allowPrivilegeEscalation": false,
		"capabilities":             map[string]any{"drop": []any{"ALL"}},
		"seccompProfile":           map[string]any{"type": "RuntimeDefault"},
	}
	if got := c["securityContext"]; !reflect.DeepEqual(got, securityContext) {
		t.Errorf("container securityContext %v,\nwant %v", got, securityContext)
	}
	podSecurityContext := map[string]any{
		"runAsNonRoot":   true,
		"runAsUser":      65532,
		"runAsGroup":     65532,
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}
	if got := get(t, d, "spec", "template", "spec", "securityContext"); !reflect.DeepEqual(got, podSecurityContext) {
		t.Errorf("pod securityContext %v,\nwant %v", got, podSecurityContext)
	}
	if got := get(t, d, "spec", "template", "spec", "automountServiceAccountToken"); got != false {
		t.Errorf("automountServiceAccountToken %v, want false", got)
	}
	resources := map[string]any{
		"requests": map[string]any{"cpu": "100m", "memory": "64Mi"},
		"limits":   map[string]any{"cpu": "1", "memory": "256Mi"},
	}
	if got := c["resources"]; !reflect.DeepEqual(got, resources) {
		t.Errorf("resources %v, want %v", got, resources)
	}
	env := m.env(t)
	for _, name := range credentialVars {
		if _, ok := env[name]; ok {
			t.Errorf("%s rendered without any credentials Secret configured", name)
		}
	}
	if _, ok := env["INVITEGW_REDIS_URL"]; ok {
		t.Error("INVITEGW_REDIS_URL rendered without redis.url")
	}

	s := m["Service"]
	servicePorts := []any{map[string]any{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}}
	if got := get(t, s, "spec", "ports"); !reflect.DeepEqual(got, servicePorts) {
		t.Errorf("Service ports %v, want %v", got, servicePorts)
	}
	if got, want := get(t, s, "spec", "selector"), get(t, d, "spec", "selector", "matchLabels"); !reflect.DeepEqual(got, want) {
		t.Errorf("Service selects %v, the Deployment's pods are %v", got, want)
	}
	for _, kind := range []string{"Deployment", "Service"} {
		labels := get(t, m[kind], "metadata", "labels").(map[string]any)
		for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"} {
			if _, ok := labels[l]; !ok {
				t.Errorf("%s has no label %s", kind, l)
			}
		}
	}
}

// TestGracePeriodOutlastsTheDrain: the kubelet's SIGKILL comes after drain + timeout, and the
// readiness probe notices the drain before it ends, for the defaults and for values given as
// --set (integers) or in a file (YAML numbers).
func TestGracePeriodOutlastsTheDrain(t *testing.T) {
	file := t.TempDir() + "/values.yaml"
	if err := os.WriteFile(file, []byte("shutdown: {drainSeconds: 20, timeoutSeconds: 40, graceMarginSeconds: 3}\nreadinessProbe: {periodSeconds: 5, failureThreshold: 3}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                    string
		flags                   []string
		drain, timeout, seconds time.Duration
	}{
		{"defaults", nil, 5 * time.Second, 10 * time.Second, 25},
		{"set on the command line", []string{"--set", "shutdown.drainSeconds=30,shutdown.timeoutSeconds=60"}, 30 * time.Second, 60 * time.Second, 100},
		{"set in a values file", []string{"-f", file}, 20 * time.Second, 40 * time.Second, 63},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, tc.flags...)
			env := m.env(t)
			drain, err := time.ParseDuration(get(t, env["INVITEGW_SHUTDOWN_DRAIN"], "value").(string))
			if err != nil || drain != tc.drain {
				t.Fatalf("INVITEGW_SHUTDOWN_DRAIN %v (%v), want %v", drain, err, tc.drain)
			}
			timeout, err := time.ParseDuration(get(t, env["INVITEGW_SHUTDOWN_TIMEOUT"], "value").(string))
			if err != nil || timeout != tc.timeout {
				t.Fatalf("INVITEGW_SHUTDOWN_TIMEOUT %v (%v), want %v", timeout, err, tc.timeout)
			}
			grace := get(t, m["Deployment"], "spec", "template", "spec", "terminationGracePeriodSeconds").(int)
			if time.Duration(grace)*time.Second <= drain+timeout {
				t.Errorf("terminationGracePeriodSeconds %d, not more than drain %v + timeout %v", grace, drain, timeout)
			}
			if grace != int(tc.seconds) {
				t.Errorf("terminationGracePeriodSeconds %d, want %d", grace, tc.seconds)
			}
			r := m.container(t)["readinessProbe"].(map[string]any)
			notice := time.Duration(r["periodSeconds"].(int)*r["failureThreshold"].(int)) * time.Second
			if notice >= drain {
				t.Errorf("readiness notices a drain after %v, not within the drain's %v", notice, drain)
			}
		})
	}
}

func TestCredentialsComeOnlyFromSecrets(t *testing.T) {
	m := render(t,
		"--set", "credentials.existingSecret=invitegw-credentials",
		"--set", "credentials.redpanda.existingSecret=redpanda",
		"--set", "credentials.redis.keys.url=redis-url",
		"--set", "env.INVITEGW_ELASTIC_ORGANIZATIONS=1004",
	)
	env := m.env(t)
	for _, name := range credentialVars {
		t.Run(name, func(t *testing.T) {
			e, ok := env[name]
			if !ok {
				t.Fatal("not rendered")
			}
			if _, plain := e["value"]; plain {
				t.Fatalf("has a plain value: %v", e)
			}
			ref, ok := get(t, e, "valueFrom", "secretKeyRef").(map[string]any)
			if !ok || len(e) != 2 {
				t.Fatalf("not only a secretKeyRef: %v", e)
			}
			secret := "invitegw-credentials"
			if strings.HasPrefix(name, "INVITEGW_REDPANDA_") {
				secret = "redpanda"
			}
			if ref["name"] != secret || ref["optional"] != true || ref["key"] == "" {
				t.Errorf("secretKeyRef %v, want an optional key of %s", ref, secret)
			}
		})
	}
	if got := get(t, env["INVITEGW_ELASTIC_ORGANIZATIONS"], "value"); got != "1004" {
		t.Errorf("INVITEGW_ELASTIC_ORGANIZATIONS %v, want 1004", got)
	}
}

// TestRedisTopologies: each of the first-class Redis values becomes its variables.
func TestRedisTopologies(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		want  map[string]string
	}{
		{"url", []string{"--set", "redis.url=redis://redis:6379/0"}, map[string]string{"INVITEGW_REDIS_URL": "redis://redis:6379/0"}},
		{"cluster", []string{"--set", "redis.clusterAddrs={r0:6379,r1:6379}"}, map[string]string{"INVITEGW_REDIS_CLUSTER_ADDRS": "r0:6379,r1:6379"}},
		{"sentinel", []string{"--set", "redis.sentinel.addrs={s0:26379,s1:26379},redis.sentinel.master=mymaster"},
			map[string]string{"INVITEGW_REDIS_SENTINEL_ADDRS": "s0:26379,s1:26379", "INVITEGW_REDIS_SENTINEL_MASTER": "mymaster"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := render(t, tc.flags...).env(t)
			got := map[string]string{}
			for name, e := range env {
				if strings.HasPrefix(name, "INVITEGW_REDIS_") {
					got[name], _ = e["value"].(string)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Redis env %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRefused: settings that would put a secret in plain text, fight the chart's own values or
// break the drain relations fail to render, naming the problem.
func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"a credential in env", []string{"--set", "env.INVITEGW_ELASTIC_API_KEY=essu_x"}, "env.INVITEGW_ELASTIC_API_KEY"},
		{"the drain in env", []string{"--set", "env.INVITEGW_SHUTDOWN_DRAIN=1s"}, "env.INVITEGW_SHUTDOWN_DRAIN"},
		{"readiness slower than the drain", []string{"--set", "readinessProbe.periodSeconds=3"}, "must be shorter than shutdown.drainSeconds"},
		{"no grace margin", []string{"--set", "shutdown.graceMarginSeconds=0"}, "shutdown.graceMarginSeconds must be at least 1"},
		{"a fractional drain", []string{"--set", "shutdown.drainSeconds=5.5"}, "whole number of seconds"},
		{"an unknown credential key", []string{"--set", "credentials.elastic.keys.apikey=x"}, "credentials.elastic.keys.apikey: unknown"},
		{"two Redis topologies", []string{"--set", "redis.url=redis://r:6379,redis.clusterAddrs={r0:6379}"}, "set one of url, clusterAddrs or sentinel"},
		{"Sentinel without its master", []string{"--set", "redis.sentinel.addrs={s0:26379}"}, "needs redis.sentinel.master"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helm(t, append([]string{"template", "rel", chart}, tc.flags...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestOptionalObjects: the HPA, PDB and ServiceMonitor are rendered only when enabled, and then
// as described in values.yaml.
func TestOptionalObjects(t *testing.T) {
	m := render(t, "--set", "autoscaling.enabled=true,podDisruptionBudget.enabled=true,serviceMonitor.enabled=true")
	if got, want := m.kinds(), []string{"Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", "ServiceMonitor"}; !slices.Equal(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	d := m["Deployment"]
	if _, ok := get(t, d, "spec").(map[string]any)["replicas"]; ok {
		t.Error("the Deployment sets replicas while the HPA owns them")
	}
	name := get(t, d, "metadata", "name")
	hpa := m["HorizontalPodAutoscaler"]
	if got := get(t, hpa, "apiVersion"); got != "autoscaling/v2" {
		t.Errorf("HPA apiVersion %v", got)
	}
	if got := get(t, hpa, "spec", "scaleTargetRef", "name"); got != name {
		t.Errorf("HPA scales %v, not the Deployment %v", got, name)
	}
	wantMetric := map[string]any{"type": "Resource", "resource": map[string]any{"name": "cpu", "target": map[string]any{"type": "Utilization", "averageUtilization": 70}}}
	if got := get(t, hpa, "spec", "metrics", 0); !reflect.DeepEqual(got, wantMetric) {
		t.Errorf("HPA metric %v, want %v", got, wantMetric)
	}
	pdb := m["PodDisruptionBudget"]
	if got := get(t, pdb, "spec", "minAvailable"); got != 1 {
		t.Errorf("PDB minAvailable %v, want 1", got)
	}
	selector := get(t, d, "spec", "selector", "matchLabels")
	if got := get(t, pdb, "spec", "selector", "matchLabels"); !reflect.DeepEqual(got, selector) {
		t.Errorf("PDB selects %v, the Deployment's pods are %v", got, selector)
	}
	sm := m["ServiceMonitor"]
	if got := get(t, sm, "apiVersion"); got != "monitoring.coreos.com/v1" {
		t.Errorf("ServiceMonitor apiVersion %v", got)
	}
	endpoint := get(t, sm, "spec", "endpoints", 0).(map[string]any)
	if endpoint["port"] != "http" || endpoint["path"] != "/metrics" {
		t.Errorf("ServiceMonitor endpoint %v, want /metrics on http", endpoint)
	}
	if got, want := get(t, sm, "spec", "selector", "matchLabels"), get(t, m["Service"], "metadata", "labels").(map[string]any); !subset(got.(map[string]any), want) {
		t.Errorf("ServiceMonitor selects %v, the Service is labelled %v", got, want)
	}
}

func subset(small, big map[string]any) bool {
	for k, v := range small {
		if big[k] != v {
			return false
		}
	}
	return true
}

// TestMakefileRunsTheSameHelm: `make helm-check` lints with the helm these tests render with.
func TestMakefileRunsTheSameHelm(t *testing.T) {
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(makefile, []byte(helmModule)) {
		t.Errorf("the Makefile does not run %s", helmModule)
	}
}
