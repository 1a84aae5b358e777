"""The configuration files of the node's parts: containerd, CNI, kubelet, kube-proxy and CoreDNS.

Each function returns a file's text; `node.py` writes them and starts the processes. The settings
that differ from a stock node are the measured facts of our machines:

- cgroup v1 only: the kubelet's `failCgroupV1: false`, the `cgroupfs` driver, and a cgroup root of
  the cluster's own (two clusters' kubelets would otherwise both manage `/kubepods`);
- no CAP_SYS_RESOURCE: containerd's `restrict_oom_score_adj` and the kubelet's `oomScoreAdj: 0`;
- images come only from the cluster's registry, over plain HTTP (containerd's hosts config);
- kube-proxy leaves the machine-wide conntrack sysctls alone (`maxPerCore: 0`, timeouts 0);
- CoreDNS answers for the cluster's names only: nothing is forwarded outside the machine.
"""

import json

from local_cluster.node_network import BRIDGE, NodeNetwork

NODE_NAME = "local-node"
CLUSTER_DOMAIN = "cluster.local"
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
KUBE_PROXY_HEALTH_PORT = 10256
KUBE_PROXY_METRICS_PORT = 10249
COREDNS_READY_PORT = 8181


def containerd_config(state_dir: str, cni_conf_dir: str, hosts_dir: str, sandbox_image: str) -> str:
    return f"""version = 2
root = "{state_dir}/root"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{CONTAINERD_SOCKET}"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{state_dir}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  restrict_oom_score_adj = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni_conf_dir}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{hosts_dir}"
"""


def registry_hosts(registry: str) -> str:
    """containerd's hosts.toml for the cluster's registry (HOST:PORT): plain HTTP, pull only."""
    return f"""server = "http://{registry}"

[host."http://{registry}"]
  capabilities = ["pull", "resolve"]
"""


def cni_config(network: NodeNetwork, ipam_dir: str) -> str:
    """The Pod network: the bridge with host-local addresses, NAT towards the machine's end of
    the link (Pods have no other way out), and host ports."""
    bridge = {
        "type": "bridge",
        "bridge": BRIDGE,
        "isGateway": True,
        "ipMasq": True,
        "hairpinMode": True,
        "ipam": {
            "type": "host-local",
            "dataDir": ipam_dir,
            "ranges": [[{"subnet": network.pod_cidr, "gateway": network.pod_gateway}]],
            "routes": [{"dst": "0.0.0.0/0"}],
        },
    }
    portmap = {"type": "portmap", "capabilities": {"portMappings": True}}
    config = {"cniVersion": "0.4.0", "name": "company-exports", "plugins": [bridge, portmap]}
    return json.dumps(config, indent=2)


def kubelet_config(
    network: NodeNetwork,
    ca_cert: str,
    serving_cert: str,
    serving_key: str,
    pod_logs_dir: str,
    resolv_conf: str,
) -> str:
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": network.node_address,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "tlsCertFile": serving_cert,
        "tlsPrivateKeyFile": serving_key,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": ca_cert},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{CONTAINERD_SOCKET}",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": cgroup_root(network),
        "cgroupsPerQOS": True,
        "failCgroupV1": False,
        "failSwapOn": False,
        "oomScoreAdj": 0,
        "clusterDNS": [network.pod_gateway],
        "clusterDomain": CLUSTER_DOMAIN,
        "resolvConf": resolv_conf,
        "podLogsDir": pod_logs_dir,
        "serializeImagePulls": False,
        # Images are the cluster's own; a nearly full disk must not evict the product's Pods.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%",
                         "imagefs.available": "1%"},
        "registerNode": True,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "protectKernelDefaults": False,
        "syncFrequency": "10s",
    }  # fmt: skip
    return json.dumps(config, indent=2)


def cgroup_root(network: NodeNetwork) -> str:
    """The cgroup (in each v1 hierarchy) under which this cluster's kubelet puts every Pod."""
    return f"/company-exports-node{network.slot}"


def kube_proxy_config(network: NodeNetwork, kubeconfig: str) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": kubeconfig},
        "hostnameOverride": NODE_NAME,
        "clusterCIDR": network.pod_cidr,
        "bindAddress": network.node_address,
        "healthzBindAddress": f"{network.node_address}:{KUBE_PROXY_HEALTH_PORT}",
        "metricsBindAddress": f"127.0.0.1:{KUBE_PROXY_METRICS_PORT}",
        "nodePortAddresses": [f"{network.node_address}/32"],
        # Zero leaves the machine-wide conntrack settings as they are.
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
    }
    return json.dumps(config, indent=2)


def corefile(network: NodeNetwork, kubeconfig: str) -> str:
    """Cluster DNS on the bridge's address: Service and Pod names only, nothing forwarded."""
    return f""".:53 {{
    bind {network.pod_gateway}
    errors
    ready {network.node_address}:{COREDNS_READY_PORT}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 5
    loop
    reload
}}
"""
