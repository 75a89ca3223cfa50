// argocd-health evaluates Argo CD's resource health for Kubernetes objects exactly as Argo CD
// does: the argocd-cm ConfigMap (a YAML file, the first argument) is read by Argo CD's own
// settings manager (resource.customizations.health.<group_kind> and
// resource.customizations.useOpenLibs.<group_kind>), and each object is assessed by
// gitops-engine's health.GetResourceHealth with lua.ResourceHealthOverrides, the function the
// application controller calls. It is `argocd admin settings resource-overrides health
// OBJECT.yaml --argocd-cm-path argocd-cm.yaml` without the rest of the argocd binary, for many
// objects at once.
//
// Usage: argocd-health ARGOCD_CM.yaml < objects.json
// Objects are a JSON array on stdin; the answer is a JSON array of {kind, name, status, message}.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/health"
	"github.com/argoproj/argo-cd/v3/common"
	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/argoproj/argo-cd/v3/util/settings"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
)

// The namespace the settings manager reads from; any will do, as in `argocd admin settings`.
const namespace = "default"

type result struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-health ARGOCD_CM.yaml < objects.json")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health:", err)
		os.Exit(1)
	}
}

func run(configMapPath string, in io.Reader, out io.Writer) error {
	overrides, err := resourceOverrides(configMapPath)
	if err != nil {
		return err
	}
	var objects []json.RawMessage
	if err := json.NewDecoder(in).Decode(&objects); err != nil {
		return fmt.Errorf("reading a JSON array of objects from stdin: %w", err)
	}
	results := make([]result, 0, len(objects))
	for i, raw := range objects {
		// Unstructured's own decoding: integers become int64, as in Argo CD's live-state cache.
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("object %d: %w", i, err)
		}
		assessed, err := health.GetResourceHealth(u, lua.ResourceHealthOverrides(overrides))
		if err != nil {
			return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		if assessed == nil {
			gvk := u.GroupVersionKind()
			return fmt.Errorf("%s %s: %s has no health check, built in or in %s",
				u.GetKind(), u.GetName(), gvk.GroupKind(), configMapPath)
		}
		results = append(results, result{
			Kind:    u.GetKind(),
			Name:    u.GetName(),
			Status:  string(assessed.Status),
			Message: assessed.Message,
		})
	}
	encoder := json.NewEncoder(out)
	encoder.SetIndent("", "  ")
	return encoder.Encode(results)
}

// resourceOverrides reads argocd-cm as `argocd admin settings` does with --argocd-cm-path: the
// ConfigMap (and a stand-in argocd-secret) in a fake clientset, read by Argo CD's SettingsManager.
func resourceOverrides(configMapPath string) (map[string]appv1.ResourceOverride, error) {
	data, err := os.ReadFile(configMapPath)
	if err != nil {
		return nil, err
	}
	configMap := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict(data, configMap); err != nil {
		return nil, fmt.Errorf("%s: %w", configMapPath, err)
	}
	if configMap.Kind != "ConfigMap" || configMap.Name != common.ArgoCDConfigMapName {
		return nil, fmt.Errorf("%s: expected the ConfigMap %s, got %s %q",
			configMapPath, common.ArgoCDConfigMapName, configMap.Kind, configMap.Name)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: common.ArgoCDSecretName},
		Data:       map[string][]byte{"admin.password": []byte("unused"), "server.secretkey": []byte("unused")},
	}
	for _, object := range []metav1.Object{configMap, secret} {
		object.SetNamespace(namespace)
		object.SetLabels(map[string]string{"app.kubernetes.io/part-of": "argocd"})
	}
	manager := settings.NewSettingsManager(context.Background(), fake.NewClientset(configMap, secret), namespace)
	if err := manager.ResyncInformers(); err != nil {
		return nil, err
	}
	return manager.GetResourceOverrides()
}
