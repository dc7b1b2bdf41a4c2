package kubernetes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/crunchjobs/crunch/internal/worker"
)

// kedaVersion is the KEDA release whose ScaledObject CRD the manifests
// are validated against.
const kedaVersion = "v2.21.0"

// notApplied are the manifests that kustomization.yaml leaves out on
// purpose (README.md says why).
var notApplied = []string{"secret.example.yaml", "worker-hpa.yaml"}

// object is one decoded manifest document.
type object struct {
	file string
	kind string // apiVersion/kind, e.g. "apps/v1/Deployment"
	obj  any
}

// decode validates one YAML document strictly and returns it as the Go
// type of its kind: duplicate keys, unknown fields (compared
// case-sensitively) and wrong types are errors.
func decode(doc []byte) (string, any, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return "", nil, err
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return "", nil, err
	}
	kind := tm.APIVersion + "/" + tm.Kind
	var obj any
	switch kind {
	case "apps/v1/Deployment":
		obj = new(appsv1.Deployment)
	case "v1/Service":
		obj = new(corev1.Service)
	case "v1/ConfigMap":
		obj = new(corev1.ConfigMap)
	case "v1/Secret":
		obj = new(corev1.Secret)
	case "policy/v1/PodDisruptionBudget":
		obj = new(policyv1.PodDisruptionBudget)
	case "autoscaling/v2/HorizontalPodAutoscaler":
		obj = new(autoscalingv2.HorizontalPodAutoscaler)
	case "keda.sh/v1alpha1/ScaledObject":
		so, err := decodeScaledObject(js)
		return kind, so, err
	default:
		return kind, nil, fmt.Errorf("kind %q is not one the tests know: add it to decode", kind)
	}
	if err := strict(js, obj); err != nil {
		return kind, nil, err
	}
	return kind, obj, nil
}

// strict decodes js into v as the API server does with
// fieldValidation=Strict: case-sensitive, unknown and duplicate fields
// rejected.
func strict(js []byte, v any) error {
	errs, err := k8sjson.UnmarshalStrict(js, v, k8sjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// scaledObject is what the tests read of a ScaledObject, after it has
// passed KEDA's schema.
type scaledObject struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount"`
		MaxReplicaCount *int32 `json:"maxReplicaCount"`
		Triggers        []struct {
			Type     string            `json:"type"`
			Metadata map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

func decodeScaledObject(js []byte) (*scaledObject, error) {
	schema, err := kedaSchema()
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	if err := schema.Validate(inst); err != nil {
		return nil, fmt.Errorf("KEDA %s ScaledObject schema: %w", kedaVersion, err)
	}
	// The CRD's schema leaves metadata to the API server: check it as the
	// server would.
	var meta struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(js, &meta); err != nil {
		return nil, err
	}
	if err := strict(meta.Metadata, new(metav1.ObjectMeta)); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	so := new(scaledObject)
	return so, json.Unmarshal(js, so)
}

var kedaSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	crd, err := kedaCRD()
	if err != nil {
		return nil, err
	}
	var doc struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(crd, &doc); err != nil {
		return nil, fmt.Errorf("KEDA CRD: %w", err)
	}
	for _, v := range doc.Spec.Versions {
		if v.Name == "v1alpha1" {
			c := jsonschema.NewCompiler()
			if err := c.AddResource("scaledobject.json", structural(v.Schema.OpenAPIV3Schema)); err != nil {
				return nil, err
			}
			return c.Compile("scaledobject.json")
		}
	}
	return nil, errors.New("KEDA CRD has no v1alpha1 version")
})

// kedaCRD reads the ScaledObject CRD shipped in the KEDA module, fetched
// through the Go module proxy (and then cached) like any dependency.
func kedaCRD() ([]byte, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "mod", "download", "-json", "github.com/kedacore/keda/v2@"+kedaVersion)
	cmd.Dir = os.TempDir() // outside this module: its go.mod and go.sum stay as they are
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod download KEDA %s: %w: %s", kedaVersion, err, stderr.String())
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return nil, fmt.Errorf("go mod download KEDA %s: no Dir in %s", kedaVersion, out)
	}
	return os.ReadFile(filepath.Join(mod.Dir, "config", "crd", "bases", "keda.sh_scaledobjects.yaml"))
}

// structural makes a CRD's OpenAPI schema strict as the API server
// applies it: an object with declared properties admits no others unless
// it says x-kubernetes-preserve-unknown-fields.
func structural(node any) any {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			n[k] = structural(v)
		}
		_, hasProps := n["properties"]
		_, hasAdditional := n["additionalProperties"]
		preserve, _ := n["x-kubernetes-preserve-unknown-fields"].(bool)
		if hasProps && !hasAdditional && !preserve {
			n["additionalProperties"] = false
		}
		return n
	case []any:
		for i, v := range n {
			n[i] = structural(v)
		}
	}
	return node
}

// documents splits a YAML file into its documents, dropping empty ones.
func documents(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(b, []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func stripComments(b []byte) []byte {
	var out []byte
	for line := range bytes.Lines(b) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
		}
	}
	return out
}

// manifests decodes every manifest of the directory.
func manifests(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var objs []object
	for _, f := range files {
		if f == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range documents(b) {
			kind, obj, err := decode(doc)
			if err != nil {
				t.Errorf("%s, document %d (%s): %v", f, i+1, kind, err)
				continue
			}
			objs = append(objs, object{file: f, kind: kind, obj: obj})
		}
	}
	return objs
}

func TestManifestsDecodeStrictly(t *testing.T) {
	t.Parallel()
	objs := manifests(t)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.kind]++
	}
	want := map[string]int{
		"apps/v1/Deployment": 2, "v1/Service": 1, "v1/ConfigMap": 1, "v1/Secret": 1,
		"policy/v1/PodDisruptionBudget": 2, "autoscaling/v2/HorizontalPodAutoscaler": 1,
		"keda.sh/v1alpha1/ScaledObject": 1,
	}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d manifests of kind %s, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
}

// TestStrictDecodingCatchesMistakes proves that the checks of
// TestManifestsDecodeStrictly can fail: each mistake, made in a copy of a
// real manifest, is refused.
func TestStrictDecodingCatchesMistakes(t *testing.T) {
	t.Parallel()
	worker := firstDoc(t, "worker.yaml")
	scaled := firstDoc(t, "worker-scaledobject.yaml")
	tests := []struct {
		name, doc, old, new string
	}{
		{"misspelled Deployment field", worker, "terminationGracePeriodSeconds:", "terminationGracePeriodSecond:"},
		{"field in the wrong case", worker, "readinessProbe:", "ReadinessProbe:"},
		{"wrong type", worker, "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: thirty"},
		{"duplicate key", worker, "  selector:\n", "  selector:\n    matchLabels: {}\n  selector:\n"},
		{"misspelled metadata field", worker, "  labels:\n", "  label:\n"},
		{"misspelled ScaledObject field", scaled, "maxReplicaCount:", "maxReplicas:"},
		{"wrong ScaledObject type", scaled, "maxReplicaCount: 20", "maxReplicaCount: many"},
		{"misspelled ScaledObject trigger field", scaled, "    - type: prometheus\n      metadata:", "    - type: prometheus\n      metdata:"},
		{"misspelled ScaledObject metadata field", scaled, "  labels:\n", "  label:\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(tt.doc, tt.old) {
				t.Fatalf("the manifest no longer contains %q: update the test", tt.old)
			}
			if _, _, err := decode([]byte(tt.doc)); err != nil {
				t.Fatalf("the unchanged manifest is refused: %v", err)
			}
			bad := strings.Replace(tt.doc, tt.old, tt.new, 1)
			if _, _, err := decode([]byte(bad)); err == nil {
				t.Errorf("%s was accepted:\n%s", tt.name, bad)
			} else {
				t.Logf("refused: %v", strings.ReplaceAll(err.Error(), "\n", " "))
			}
		})
	}
}

func firstDoc(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(documents(b)[0])
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
		Images     []struct {
			Name    string `json:"name"`
			NewName string `json:"newName"`
			NewTag  string `json:"newTag"`
		} `json:"images"`
	}
	js, err := yaml.YAMLToJSONStrict(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := strict(js, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml is %s/%s", k.APIVersion, k.Kind)
	}
	files, _ := filepath.Glob("*.yaml")
	for _, f := range files {
		listed := slices.Contains(k.Resources, f)
		skipped := slices.Contains(notApplied, f) || f == "kustomization.yaml"
		switch {
		case listed && skipped:
			t.Errorf("%s is listed in kustomization.yaml but meant to stay out of it", f)
		case !listed && !skipped:
			t.Errorf("%s is not listed in kustomization.yaml's resources", f)
		}
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(r); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", r, err)
		}
	}
	// Every image the Deployments name is set by the kustomization.
	for _, o := range manifests(t) {
		d, ok := o.obj.(*appsv1.Deployment)
		if !ok {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if !slices.ContainsFunc(k.Images, func(i struct {
				Name    string `json:"name"`
				NewName string `json:"newName"`
				NewTag  string `json:"newTag"`
			}) bool {
				return i.Name == c.Image
			}) {
				t.Errorf("%s: image %s is not in kustomization.yaml's images", d.Name, c.Image)
			}
		}
	}
}

// TestManifestsAgree checks what ties the manifests to each other and to
// the binaries' configuration.
func TestManifestsAgree(t *testing.T) {
	t.Parallel()
	objs := manifests(t)
	deployments := map[string]*appsv1.Deployment{}
	var secretKeys, configKeys []string
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			deployments[v.Name] = v
		case *corev1.Secret:
			for k := range v.StringData {
				secretKeys = append(secretKeys, k)
			}
		case *corev1.ConfigMap:
			for k := range v.Data {
				configKeys = append(configKeys, k)
			}
		}
	}
	api, wk := deployments["crunch-api"], deployments["crunch-worker"]
	if api == nil || wk == nil {
		t.Fatalf("want Deployments crunch-api and crunch-worker, have %v", slices.Collect(mapsKeys(deployments)))
	}
	matches := func(sel *metav1.LabelSelector, labels map[string]string) bool {
		if sel == nil || len(sel.MatchLabels) == 0 {
			return false
		}
		for k, v := range sel.MatchLabels {
			if labels[k] != v {
				return false
			}
		}
		return true
	}

	for _, d := range []*appsv1.Deployment{api, wk} {
		if !matches(d.Spec.Selector, d.Spec.Template.Labels) {
			t.Errorf("%s: selector %v does not match its pods' labels %v", d.Name, d.Spec.Selector, d.Spec.Template.Labels)
		}
		pod := d.Spec.Template.Spec
		if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: pods must run as non-root", d.Name)
		}
		for _, c := range pod.Containers {
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[r]; !ok {
					t.Errorf("%s/%s: no %s request", d.Name, c.Name, r)
				}
				if _, ok := c.Resources.Limits[r]; !ok {
					t.Errorf("%s/%s: no %s limit", d.Name, c.Name, r)
				}
			}
			checkProbe(t, d.Name+"/"+c.Name+" readiness", c, c.ReadinessProbe, "/readyz")
			checkProbe(t, d.Name+"/"+c.Name+" liveness", c, c.LivenessProbe, "/healthz")
			for _, e := range c.Env {
				if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && !slices.Contains(secretKeys, r.SecretKeyRef.Key) {
					t.Errorf("%s/%s: env %s reads key %s, which secret.example.yaml lacks", d.Name, c.Name, e.Name, r.SecretKeyRef.Key)
				}
			}
			if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != "crunch" {
				t.Errorf("%s/%s: want envFrom the ConfigMap crunch", d.Name, c.Name)
			}
		}
	}
	if len(configKeys) == 0 {
		t.Error("the ConfigMap crunch is empty")
	}

	// The worker serves its probes on CRUNCH_WORKER_HTTP_ADDR; the API on
	// CRUNCH_HTTP_ADDR.
	checkListen(t, wk, "CRUNCH_WORKER_HTTP_ADDR", 9090)
	checkListen(t, api, "CRUNCH_HTTP_ADDR", 8080)

	// The grace period covers the worker's drain: ShutdownTimeout for the
	// running chunks, then handing back the rest and retiring.
	grace := time.Duration(*wk.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	if grace < worker.ShutdownTimeoutDefault+5*time.Second || grace > 2*worker.ShutdownTimeoutDefault {
		t.Errorf("crunch-worker: terminationGracePeriodSeconds %s, want between ShutdownTimeout (%s) + 5s and twice it",
			grace, worker.ShutdownTimeoutDefault)
	}
	if wk.Spec.Replicas != nil {
		t.Error("crunch-worker sets replicas, which every apply would reset under the autoscaler")
	}

	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.Service:
			d := deployments[v.Name]
			if d == nil || !matches(&metav1.LabelSelector{MatchLabels: v.Spec.Selector}, d.Spec.Template.Labels) {
				t.Errorf("Service %s selects %v, which matches no Deployment of its name", v.Name, v.Spec.Selector)
			}
			for _, p := range v.Spec.Ports {
				if d != nil && p.TargetPort.StrVal != "" && !hasPort(d, p.TargetPort.StrVal) {
					t.Errorf("Service %s targets port %q, which %s does not name", v.Name, p.TargetPort.StrVal, d.Name)
				}
			}
		case *policyv1.PodDisruptionBudget:
			d := deployments[v.Name]
			if d == nil || !matches(v.Spec.Selector, d.Spec.Template.Labels) {
				t.Errorf("PodDisruptionBudget %s matches no Deployment of its name", v.Name)
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			if r := v.Spec.ScaleTargetRef; r.Kind != "Deployment" || deployments[r.Name] == nil {
				t.Errorf("HPA %s targets %s %s", v.Name, r.Kind, r.Name)
			}
		case *scaledObject:
			if r := v.Spec.ScaleTargetRef; r.Kind != "Deployment" || r.Name != wk.Name {
				t.Errorf("ScaledObject %s targets %s %s, want Deployment %s", v.Metadata.Name, r.Kind, r.Name, wk.Name)
			}
			if len(v.Spec.Triggers) != 1 || v.Spec.Triggers[0].Type != "prometheus" ||
				!strings.Contains(v.Spec.Triggers[0].Metadata["query"], "crunch_backlog_runnable_chunks") {
				t.Errorf("ScaledObject %s: want one prometheus trigger on crunch_backlog_runnable_chunks, have %+v", v.Metadata.Name, v.Spec.Triggers)
			}
		}
	}
}

func checkProbe(t *testing.T, what string, c corev1.Container, p *corev1.Probe, path string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: want an HTTP probe on %s", what, path)
		return
	}
	if p.HTTPGet.Path != path {
		t.Errorf("%s: probe path %s, want %s", what, p.HTTPGet.Path, path)
	}
	if name := p.HTTPGet.Port.StrVal; name != "" && !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == name }) {
		t.Errorf("%s: probe port %q is not a port of the container", what, name)
	}
}

func checkListen(t *testing.T, d *appsv1.Deployment, env string, port int32) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == env })
	if i < 0 || c.Env[i].Value != fmt.Sprintf(":%d", port) {
		t.Errorf("%s: want %s=:%d", d.Name, env, port)
	}
	if !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.ContainerPort == port }) {
		t.Errorf("%s: container port %d is not declared", d.Name, port)
	}
}

func hasPort(d *appsv1.Deployment, name string) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
