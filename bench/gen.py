#!/usr/bin/env python3
"""Writes equivalent synthetic inputs for kdrender, helm and kustomize.

    gen.py kdrender N DIR   N KubeDirectorClusters of a two-role app (3 coordinators with storage
                            and a per-member id file, 2 workers), each role with config files
    gen.py helm N DIR       a chart with N StatefulSets, each hashing its own ConfigMap
                            (the per-workload `checksum/config` idiom)
    gen.py kustomize N DIR  N StatefulSets, each referencing its own configMapGenerator
                            ConfigMap (name-suffix hash)

Every workload, in every tool, is a StatefulSet whose pod template changes exactly when its own
configuration does; the config file is the same ~1 KiB text in all three.
"""
import os
import sys

CONFIG = "".join(f"setting.{i:02d}=value-{i:02d} # a line of the role's configuration file\n" for i in range(16))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


APP = """apiVersion: kubedirector.hpe.com/v1beta1
kind: KubeDirectorApp
metadata:
  name: bench
spec:
  label: {name: Benchmark app}
  distroID: bench/app
  version: "1.0"
  configSchemaVersion: 8
  defaultImageRepoTag: registry.example.com/bench:1.0
  defaultEventList: [configure]
  services:
  - {id: coord, endpoint: {port: 2181}}
  - {id: web, endpoint: {port: 8080, urlScheme: http}}
  roles:
  - {id: coordinator, cardinality: "3"}
  - {id: worker, cardinality: "1+"}
  config:
    selectedRoles: [coordinator, worker]
    roleServices:
    - {roleID: coordinator, serviceIDs: [coord]}
    - {roleID: worker, serviceIDs: [web]}
  kdrender:
    configFiles: files
"""

CLUSTER = """apiVersion: kubedirector.hpe.com/v1beta1
kind: KubeDirectorCluster
metadata:
  name: c{i:05d}
spec:
  app: bench
  roles:
  - id: coordinator
    resources: {{limits: {{cpu: "1", memory: 1Gi}}}}
    storage: {{size: 5Gi}}
  - id: worker
    members: 2
    resources: {{limits: {{cpu: "2", memory: 2Gi}}}}
"""


def kdrender(n, out):
    write(f"{out}/kdrender.yaml", "apiVersion: kdrender.dev/v1alpha1\nkind: RenderSettings\nspec:\n  namespace: bench\n")
    write(f"{out}/apps/bench/app.yaml", APP)
    files = f"{out}/apps/bench/files"
    write(f"{files}/roles/coordinator/etc/coord/coord.conf.j2",
          "servers={{ roles.coordinator.fqdns | join(',') }}\n" + CONFIG)
    write(f"{files}/members/coordinator/var/lib/coord/myid.j2", "{{ member.ordinal + 1 }}\n")
    write(f"{files}/roles/worker/etc/worker/worker.conf.j2",
          "coordinators={{ roles.coordinator.fqdns | join(',') }}\n" + CONFIG)
    for i in range(n):
        write(f"{out}/clusters/c{i:05d}.yaml", CLUSTER.format(i=i))


STATEFULSET = """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {name}
spec:
  serviceName: {name}
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
{annotations}    spec:
      containers:
      - name: app
        image: registry.example.com/bench:1.0
        envFrom:
        - configMapRef: {{name: {config}}}
        env:
        - name: SETTING_00
          valueFrom: {{configMapKeyRef: {{name: {config}, key: setting}}}}
        volumeMounts:
        - {{name: config, mountPath: /etc/app}}
      volumes:
      - name: config
        configMap: {{name: {config}}}
"""


def helm(n, out):
    write(f"{out}/Chart.yaml", "apiVersion: v2\nname: bench\nversion: 1.0.0\n")
    workloads = "".join(f"- app-{i:05d}\n" for i in range(n))
    write(f"{out}/values.yaml", "workloads:\n" + workloads)
    config = "".join(f"    {line}\n" for line in CONFIG.splitlines())
    write(f"{out}/templates/_config.tpl",
          '{{- define "bench.config" -}}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ . }}-config\n'
          'data:\n  setting: value\n  app.conf: |\n' + config + "{{- end -}}\n")
    write(f"{out}/templates/configmaps.yaml",
          '{{- range .Values.workloads }}\n---\n{{ include "bench.config" . }}\n{{- end }}\n')
    sts = STATEFULSET.format(name="{{ . }}", config="{{ . }}-config",
                             annotations='      annotations:\n        checksum/config: {{ include "bench.config" . | sha256sum }}\n')
    write(f"{out}/templates/statefulsets.yaml", "{{- range .Values.workloads }}\n---\n" + sts + "{{- end }}\n")


def kustomize(n, out):
    resources = []
    generators = []
    for i in range(n):
        name = f"app-{i:05d}"
        write(f"{out}/config/{name}.conf", CONFIG)
        write(f"{out}/sts/{name}.yaml", STATEFULSET.format(name=name, config=f"{name}-config", annotations=""))
        resources.append(f"- sts/{name}.yaml\n")
        generators.append(f"- name: {name}-config\n  literals: [setting=value]\n  files: [app.conf=config/{name}.conf]\n")
    write(f"{out}/kustomization.yaml", "resources:\n" + "".join(resources) + "configMapGenerator:\n" + "".join(generators))


if __name__ == "__main__":
    tool, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    {"kdrender": kdrender, "helm": helm, "kustomize": kustomize}[tool](n, out)
