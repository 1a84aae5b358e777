"""Python programs the tests run inside Pods (`python -c SCRIPT ARGS`), in our own images.

- `REACH ARG...`: for each HOST:PORT, "open" when a TCP connection opens within 3 s, else the
  error's type; for each NAME, the address it resolves to, else the error's type. One JSON object.
- `INSPECT`: "uid gid root token kubeconfig": the process's ids; how a write to `/` ended
  ("writable" or "errno-N", 30 being a read-only file system); whether a service-account token is
  mounted; whether the environment names a kubeconfig.
"""

REACH = """
import json, socket, sys
result = {}
for target in sys.argv[1:]:
    try:
        if ":" in target:
            host, port = target.rsplit(":", 1)
            socket.create_connection((host, int(port)), timeout=3).close()
            result[target] = "open"
        else:
            result[target] = socket.gethostbyname(target)
    except OSError as error:
        result[target] = type(error).__name__
print(json.dumps(result))
"""

INSPECT = """
import os
try:
    open("/written-by-a-test", "w").close()
    root = "writable"
except OSError as error:
    root = f"errno-{error.errno}"
token = os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/token")
print(os.getuid(), os.getgid(), root, token, "KUBECONFIG" in os.environ)
"""
