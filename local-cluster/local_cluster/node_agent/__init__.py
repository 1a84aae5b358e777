"""A test node agent that plays kubelet for one Node, running containers as local processes.

Test equipment for the local cluster (no container runtime, no registry), not product code.

    python -m local_cluster.node_agent --kubeconfig ADMIN_KUBECONFIG --node-name NAME --work-dir DIR

It registers the Node as Ready (and keeps its Lease renewed), binds pods without a node to it
(no scheduler runs), and for each pod on the node:

* runs each container's `command`/`args` (or the image's entry point) as a local process in its own
  session, with the image's PATH from the image table (`local_cluster.images`), the pod's `env` and
  `envFrom` resolved (literals with `$(VAR)`, Secrets, ConfigMaps, `fieldRef`, `resourceFieldRef`),
  and stdout/stderr appended to `<work-dir>/pods/<namespace>_<name>_<uid>/<container>.log`;
* gives it the pod's API identity: unless `automountServiceAccountToken` is false (pod or service
  account), a token requested through TokenRequest for the pod's service account, bound to the pod,
  in a kubeconfig in the pod's folder that `KUBECONFIG` points to (only that: no
  KUBERNETES_SERVICE_HOST), so RBAC applies to what the pod does;
* backs `emptyDir` volumes with folders of the pod (`volumes/<name>`); other volume types have no
  host folder. Processes see the host's filesystem, so env values, `command`, `args` and
  `workingDir` that are the `terminationMessagePath` or lie under a backed volume's `mountPath` are
  rewritten to the host path behind them, and `TMPDIR` is the folder of a volume mounted at /tmp;
* reads the termination message file (`<container>.termination-log`, at most 4096 bytes) after
  exit, or the log's tail for `FallbackToLogsOnError`, into `state.terminated.message`;
* writes the pod's status (phase, conditions, container states, exit codes, restart counts) through
  pods/status, so the real Job controller completes or retries Jobs; applies `restartPolicy`;
  enforces the pod's own `activeDeadlineSeconds`; runs readiness probes (`probes`);
* on `deletionTimestamp`: SIGTERM to the process groups, SIGKILL after the grace period, final
  status, then DELETE with grace 0 and a uid precondition (so namespaces and Jobs delete promptly).
  A pod deleted outright has its processes killed at once. Once a pod is gone from the API its
  emptyDir folders and kubeconfig are removed; its logs stay in its folder for debugging.

Unknown images stay Waiting in ErrImagePull, then ImagePullBackOff; a missing Secret, ConfigMap or
key (not optional) or service account leaves containers in CreateContainerConfigError, checked again
every 2 s. On SIGTERM the agent stops every pod process (3 s grace) and exits without touching pod
status. On start it kills processes an earlier run left (recorded per container); pods that had
started under an earlier run start again if their restartPolicy is Always, and are reported Failed
with reason `NodeAgentRestarted` otherwise (a Job then replaces them).

What a local process cannot honour: runAsUser/runAsNonRoot, readOnlyRootFilesystem, capabilities,
seccomp and other securityContext settings, resource limits, liveness and startup probes, ports
and network isolation (every pod is 127.0.0.1, so two pods cannot listen on one port), image pull
policies and sidecar (restartable init) containers. A process that writes to a fixed container path
(`/dev/termination-log`, `/tmp/x`) writes to the host's: pass such paths through env instead.
"""
