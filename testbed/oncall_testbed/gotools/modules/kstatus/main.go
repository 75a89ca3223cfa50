// kstatus reads Kubernetes objects (a JSON array) on stdin and prints, for each, the status
// that sigs.k8s.io/cli-utils/pkg/kstatus/status computes for it (the library Flux's and
// kubectl-style waiters use), as a JSON array of {kind, name, status, message}.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	var objects []json.RawMessage
	if err := json.NewDecoder(in).Decode(&objects); err != nil {
		return fmt.Errorf("reading a JSON array of objects from stdin: %w", err)
	}
	results := make([]result, 0, len(objects))
	for i, raw := range objects {
		// Unstructured's own decoding: integers become int64, as the API machinery expects.
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("object %d: %w", i, err)
		}
		computed, err := status.Compute(u)
		if err != nil {
			return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		results = append(results, result{
			Kind:    u.GetKind(),
			Name:    u.GetName(),
			Status:  computed.Status.String(),
			Message: computed.Message,
		})
	}
	encoder := json.NewEncoder(out)
	encoder.SetIndent("", "  ")
	return encoder.Encode(results)
}
