package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hookgate/hookgate/internal/config"
)

// The parts of the Kubernetes objects the tests read. Unknown fields are
// ignored: kubectl (and its server-side validation) checks the schema; these
// tests check the manifests against hookgate.

type meta struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   meta   `yaml:"metadata"`
}

type deployment struct {
	object `yaml:",inline"`
	Spec   struct {
		Replicas *int `yaml:"replicas"`
		Strategy struct {
			Type          string `yaml:"type"`
			RollingUpdate struct {
				MaxUnavailable any `yaml:"maxUnavailable"`
			} `yaml:"rollingUpdate"`
		} `yaml:"strategy"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata meta    `yaml:"metadata"`
			Spec     podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
		RunAsUser    *int `yaml:"runAsUser"`
		FSGroup      *int `yaml:"fsGroup"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

type container struct {
	Name    string   `yaml:"name"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe  probe `yaml:"livenessProbe"`
	ReadinessProbe probe `yaml:"readinessProbe"`
	Lifecycle      struct {
		PreStop struct {
			Sleep *struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"` // a number or a port's name
	} `yaml:"httpGet"`
}

type service struct {
	object `yaml:",inline"`
	Spec   struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type pvc struct {
	object `yaml:",inline"`
	Spec   struct {
		AccessModes []string `yaml:"accessModes"`
	} `yaml:"spec"`
}

type secret struct {
	object     `yaml:",inline"`
	StringData map[string]string `yaml:"stringData"`
}

type kustomization struct {
	Resources          []string `yaml:"resources"`
	ConfigMapGenerator []struct {
		Name  string   `yaml:"name"`
		Files []string `yaml:"files"`
	} `yaml:"configMapGenerator"`
	GeneratorOptions struct {
		DisableNameSuffixHash bool `yaml:"disableNameSuffixHash"`
	} `yaml:"generatorOptions"`
}

// manifests is one folder of deploy/kubernetes, read.
type manifests struct {
	dir        string
	deployment deployment
	services   []service
	claims     []pvc
	configMaps map[string]map[string]string // generated ConfigMap → key → file in dir
	secret     secret                       // secret.example.yaml
	kinds      []string
}

// decodeAll decodes every YAML document of file into objects, calling each
// with the document's kind and a decoder for it.
func decodeAll(tb testing.TB, file string, each func(kind string, decode func(any))) {
	tb.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var node yaml.Node
		if err := dec.Decode(&node); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			tb.Fatalf("%s: %v", file, err)
		}
		var o object
		if err := node.Decode(&o); err != nil {
			tb.Fatalf("%s: %v", file, err)
		}
		each(o.Kind, func(v any) {
			if err := node.Decode(v); err != nil {
				tb.Fatalf("%s: %s: %v", file, o.Kind, err)
			}
		})
	}
}

// readManifests reads the kustomization in deploy/kubernetes/name, its
// resources and its secret example.
func readManifests(tb testing.TB, name string) manifests {
	tb.Helper()
	m := manifests{dir: filepath.Join("deploy", "kubernetes", name), configMaps: map[string]map[string]string{}}
	var k kustomization
	decodeAll(tb, filepath.Join(repoRoot, m.dir, "kustomization.yaml"), func(_ string, decode func(any)) { decode(&k) })
	if !k.GeneratorOptions.DisableNameSuffixHash {
		tb.Errorf("%s: the ConfigMap's name changes with its content: an edit would replace the pod instead of reaching `run -watch`", m.dir)
	}
	for _, g := range k.ConfigMapGenerator {
		m.configMaps[g.Name] = map[string]string{}
		for _, f := range g.Files {
			key, file, ok := bytes.Cut([]byte(f), []byte("="))
			if !ok {
				file = key
			}
			m.configMaps[g.Name][path.Base(string(key))] = filepath.Join(m.dir, string(file))
		}
	}
	deployments := 0
	for _, r := range append(k.Resources, "secret.example.yaml") {
		decodeAll(tb, filepath.Join(repoRoot, m.dir, r), func(kind string, decode func(any)) {
			m.kinds = append(m.kinds, kind)
			switch kind {
			case "Deployment":
				decode(&m.deployment)
				deployments++
			case "Service":
				var s service
				decode(&s)
				m.services = append(m.services, s)
			case "PersistentVolumeClaim":
				var c pvc
				decode(&c)
				m.claims = append(m.claims, c)
			case "Secret":
				if r != "secret.example.yaml" {
					tb.Errorf("%s/%s: a Secret in the kustomization would overwrite the real one on every apply", m.dir, r)
				}
				decode(&m.secret)
			}
		})
	}
	if deployments != 1 || len(m.deployment.Spec.Template.Spec.Containers) != 1 {
		tb.Fatalf("%s: want one Deployment of one container", m.dir)
	}
	return m
}

func kubernetesManifests(tb testing.TB) []manifests {
	return []manifests{readManifests(tb, "single"), readManifests(tb, "redis")}
}

// checked is what checkManifests found, for the variant's own checks.
type checked struct {
	cfg    *config.Config
	mounts map[string]string // mount path → volume name
	pod    podSpec
}

// checkManifests checks what both variants share: the container runs
// `run -watch` on the ConfigMap's config, mounted as a folder; that config
// loads with the Secret's and the container's environment; the ports,
// probes, scrape annotations and Service agree with it; the grace period
// covers the drain.
func checkManifests(t *testing.T, m manifests) checked {
	t.Helper()
	d := m.deployment
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	where := m.dir + "/deployment.yaml"

	argv := append(slices.Clone(c.Command), c.Args...)
	if len(argv) == 0 || argv[0] != "/usr/local/bin/hookgate" {
		t.Fatalf("%s: runs %q; the image's binary is /usr/local/bin/hookgate", where, argv)
	}
	configPath := checkRunArgs(t, where, argv[1:])
	if !slices.Contains(argv, "-watch") {
		t.Errorf("%s: run without -watch: a ConfigMap edit would not be reloaded", where)
	}
	if configPath != installedConfig {
		t.Errorf("%s: -config %q; want %s", where, configPath, installedConfig)
	}

	// The config file: from the volume mounted at its folder, a ConfigMap
	// that kustomize generates from a file of the folder.
	volumes := map[string]int{}
	for i, v := range pod.Volumes {
		volumes[v.Name] = i
	}
	mounts := map[string]string{}
	var configFile string
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm.Name
		if vm.MountPath != path.Dir(configPath) {
			continue
		}
		if vm.SubPath != "" {
			t.Errorf("%s: the config is mounted with subPath, which never sees an update", where)
		}
		v := pod.Volumes[volumes[vm.Name]]
		if v.ConfigMap == nil || m.configMaps[v.ConfigMap.Name] == nil {
			t.Fatalf("%s: %s is not a ConfigMap the kustomization generates", where, vm.MountPath)
		}
		configFile = m.configMaps[v.ConfigMap.Name][path.Base(configPath)]
	}
	if configFile == "" {
		t.Fatalf("%s: nothing provides %s", where, configPath)
	}

	// The environment: the Secret (envFrom) and the container's env.
	env := map[string]string{}
	fromSecret := false
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil && ef.SecretRef.Name == m.secret.Metadata.Name {
			fromSecret = true
			for k, v := range m.secret.StringData {
				env[k] = v
			}
		}
	}
	if !fromSecret {
		t.Errorf("%s: the container does not read the Secret %q of secret.example.yaml", where, m.secret.Metadata.Name)
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	cfg := loadShipped(t, configFile, env)
	if _, ok := env["HOOKGATE_ADMIN_TOKEN"]; !ok || cfg.Gateway.AdminToken.Empty() {
		t.Errorf("%s: the admin token does not come from the Secret", m.dir)
	}

	// Ports and probes.
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	portOf := func(v any) int {
		switch v := v.(type) {
		case int:
			return v
		case string:
			return ports[v]
		}
		return 0
	}
	ingest, adminPort := port(t, cfg.Gateway.Listen), port(t, cfg.Gateway.AdminListen)
	if ports["ingest"] != ingest || ports["admin"] != adminPort {
		t.Errorf("%s: container ports %v; %s listens on ingest %d, admin %d", where, ports, configFile, ingest, adminPort)
	}
	for _, p := range []struct {
		name string
		pr   probe
		path string
	}{{"livenessProbe", c.LivenessProbe, "/healthz"}, {"readinessProbe", c.ReadinessProbe, "/readyz"}} {
		if p.pr.HTTPGet.Path != p.path || portOf(p.pr.HTTPGet.Port) != adminPort {
			t.Errorf("%s: %s GET %s on port %v; want %s on the admin port %d", where, p.name, p.pr.HTTPGet.Path, p.pr.HTTPGet.Port, p.path, adminPort)
		}
	}
	ann := d.Spec.Template.Metadata.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != "/metrics" || ann["prometheus.io/port"] != strconv.Itoa(adminPort) {
		t.Errorf("%s: scrape annotations %v; want /metrics on the admin port %d", where, ann, adminPort)
	}

	// Shutdown: the pod's grace period covers preStop and the drain.
	grace := 30 * time.Second // Kubernetes's default
	if g := pod.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	var preStop time.Duration
	if s := c.Lifecycle.PreStop.Sleep; s != nil {
		preStop = time.Duration(s.Seconds) * time.Second
	}
	if budget := preStop + stopBudget(cfg); grace <= budget {
		t.Errorf("%s: terminationGracePeriodSeconds %v; preStop, shutdown_timeout and the longest destination timeout take up to %v", where, grace, budget)
	}

	// Non-root, as the image.
	if sc := pod.SecurityContext; !sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: the pod may run as root", where)
	}

	// The Service reaches the pods and their named ports.
	if len(m.services) == 0 {
		t.Errorf("%s: no Service", m.dir)
	}
	for _, s := range m.services {
		for k, v := range s.Spec.Selector {
			if d.Spec.Template.Metadata.Labels[k] != v {
				t.Errorf("%s: Service %s selects %s=%s, which the pods are not labelled", m.dir, s.Metadata.Name, k, v)
			}
		}
		for _, p := range s.Spec.Ports {
			if portOf(p.TargetPort) == 0 {
				t.Errorf("%s: Service %s port %s targets %v, which the container does not have", m.dir, s.Metadata.Name, p.Name, p.TargetPort)
			}
		}
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("%s: the Deployment selects %s=%s, which its pods are not labelled", where, k, v)
		}
	}
	return checked{cfg: cfg, mounts: mounts, pod: pod}
}

// replicas is the Deployment's replicas, 1 when unset (Kubernetes's default).
func replicas(d deployment) int {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// TestKubernetesSingle: one pod, the embedded store on a claim, Recreate.
func TestKubernetesSingle(t *testing.T) {
	m := readManifests(t, "single")
	got := checkManifests(t, m)
	d := m.deployment
	if r := replicas(d); r != 1 {
		t.Errorf("replicas %d; the embedded store is one process's file: want 1", r)
	}
	if d.Spec.Strategy.Type != "Recreate" {
		t.Errorf("strategy %q; want Recreate (a rolling update would start a second pod on the same file)", d.Spec.Strategy.Type)
	}
	cfg := got.cfg
	if cfg.Storage.Kind != "embedded" {
		t.Fatalf("storage %q; want embedded", cfg.Storage.Kind)
	}
	onClaim := false
	for mp, vol := range got.mounts {
		if !under(cfg.Storage.Path, mp) {
			continue
		}
		for _, v := range got.pod.Volumes {
			if v.Name != vol || v.PersistentVolumeClaim == nil {
				continue
			}
			for _, c := range m.claims {
				if c.Metadata.Name == v.PersistentVolumeClaim.ClaimName && slices.Contains(c.Spec.AccessModes, "ReadWriteOnce") {
					onClaim = true
				}
			}
		}
	}
	if !onClaim {
		t.Errorf("the store %s is not on a mounted ReadWriteOnce PersistentVolumeClaim of the kustomization", cfg.Storage.Path)
	}
	if got.pod.SecurityContext.FSGroup == nil {
		t.Errorf("no fsGroup: a fresh volume would not be writable by the non-root user")
	}
}

// TestKubernetesRedis: several pods on Redis, rolled one at a time, the
// Redis URL from the Secret.
func TestKubernetesRedis(t *testing.T) {
	m := readManifests(t, "redis")
	got := checkManifests(t, m)
	d := m.deployment
	if r := replicas(d); r < 2 {
		t.Errorf("replicas %d; want 2 or more", r)
	}
	if d.Spec.Strategy.Type != "RollingUpdate" {
		t.Errorf("strategy %q; want RollingUpdate", d.Spec.Strategy.Type)
	}
	if u := d.Spec.Strategy.RollingUpdate.MaxUnavailable; u != 0 && u != "0" && u != "0%" {
		t.Errorf("maxUnavailable %v; want 0, so that a rollout never has fewer pods answering", u)
	}
	cfg := got.cfg
	if cfg.Storage.Kind != "redis" {
		t.Fatalf("storage %q; want redis", cfg.Storage.Kind)
	}
	if url, ok := m.secret.StringData["REDIS_URL"]; !ok || cfg.Storage.URL.Reveal() != url {
		t.Errorf("the Redis URL does not come from the Secret's REDIS_URL")
	}
	for _, v := range got.pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			t.Errorf("volume %s: pods on Redis keep no state of their own", v.Name)
		}
	}
	if !slices.Contains(m.kinds, "PodDisruptionBudget") {
		t.Errorf("no PodDisruptionBudget: a node drain may take every pod at once")
	}
}

// TestImageStopSignal: docker stop and the kubelet stop the container with
// the image's STOPSIGNAL; the binary drains on it and exits 0. (Kubernetes
// reloads through `run -watch`, without a signal.)
func TestImageStopSignal(t *testing.T) {
	stages := readDockerfile(t)
	stops := stages[len(stages)-1].all("STOPSIGNAL")
	if len(stops) != 1 {
		t.Fatalf("%d STOPSIGNALs; want one", len(stops))
	}
	checkSignals(t, 0, signalNamed(stops[0].args))
}
