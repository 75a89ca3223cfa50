// Command etcd is upstream etcd's server entry point, unmodified: the same call as
// go.etcd.io/etcd/v3's main.go, at the go.etcd.io/etcd/server/v3 version that
// k8s.io/apiserver requires (go.mod pins it; oncall_testbed.controlplane.staging checks it).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
