"""The cluster's private network: one network namespace per node, joined
by a bridge. Needs root (ip, iptables).

  host: bridge tdjbr0, 10.77.0.254/24
    veth tdjv<i> (host end, on the bridge) <-> eth0 in namespace tdj<i>,
    10.77.0.<i>/24

Nothing is routed or NATed, so the nodes reach each other and the host's
bridge address and nothing else. Bridged frames also cross the host's
iptables FORWARD chain (bridge-nf-call-iptables), where a DROP policy
would silently partition every node: one ACCEPT rule for the bridge,
tagged with a comment, is inserted there and removed at teardown.

Faults are rules in the INPUT chain of the receiving node's namespace
(Jepsen's "grudges"); heal() flushes them. Names are fixed, so only one
network exists at a time: create() first removes whatever a crashed run
left, and callers hold LOCK_PATH while a network exists.
"""

import os
import shutil
import signal
import subprocess

BRIDGE = "tdjbr0"
PREFIX = "10.77.0"
HOST_ADDR = f"{PREFIX}.254"
NS_PREFIX = "tdj"
VETH_PREFIX = "tdjv"
COMMENT = "tdjepsen"
LOCK_PATH = "/run/lock/tdjepsen.lock"
_FORWARD_RULE = ["FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-m", "comment", "--comment", COMMENT, "-j", "ACCEPT"]


class NetworkError(RuntimeError):
    """An ip or iptables command failed; the message has its stderr."""


def _sh(*argv):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise NetworkError(f"{' '.join(argv)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _quiet(*argv):
    """Runs a cleanup command whose failure only means 'nothing to undo'."""
    subprocess.run(argv, capture_output=True, timeout=60)


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def addr(i):
    """Node i's (1-based) address."""
    return f"{PREFIX}.{i}"


def namespace(i):
    return f"{NS_PREFIX}{i}"


def exec_prefix(i):
    """The argv prefix that runs a command inside node i's namespace."""
    return ["ip", "netns", "exec", namespace(i)]


def _iptables(i, *rule):
    _sh(*exec_prefix(i), "iptables", "-w", *rule)


def cleanup():
    """Removes every namespace, the bridge and the FORWARD rule this module
    creates, whether from this run or a crashed one, and SIGKILLs the
    processes left in those namespaces (nodes of a harness that was itself
    killed: a namespace lives on while a process is in it). Safe to
    repeat; the caller holds LOCK_PATH."""
    for line in _sh("ip", "netns", "list").splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(NS_PREFIX) and name[len(NS_PREFIX) :].isdigit():
            for pid in _sh("ip", "netns", "pids", name).split():
                _kill(int(pid))
            _quiet("ip", "netns", "delete", name)
    # A deleted namespace is freed asynchronously, and its veth pairs with
    # it: deleting the host ends now keeps their names free for create().
    for line in _sh("ip", "-o", "link", "show").splitlines():
        link = line.split(": ")[1].split("@")[0] if ": " in line else ""
        if link.startswith(VETH_PREFIX) and link[len(VETH_PREFIX) :].isdigit():
            _quiet("ip", "link", "delete", link)
    _quiet("ip", "link", "delete", BRIDGE)
    while subprocess.run(["iptables", "-w", "-D", *_FORWARD_RULE], capture_output=True, timeout=60).returncode == 0:
        pass


def create(nodes):
    """Builds the bridge and one namespace per node 1..nodes, after
    removing leftovers. On failure, whatever was built stays for cleanup()."""
    cleanup()
    _sh("ip", "link", "add", BRIDGE, "type", "bridge")
    _sh("ip", "addr", "add", f"{HOST_ADDR}/24", "dev", BRIDGE)
    _sh("ip", "link", "set", BRIDGE, "up")
    _sh("iptables", "-w", "-I", *_FORWARD_RULE)
    for i in range(1, nodes + 1):
        ns, veth = namespace(i), f"{VETH_PREFIX}{i}"
        _sh("ip", "netns", "add", ns)
        _sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _sh("ip", "link", "set", veth, "master", BRIDGE, "up")
        _sh("ip", "-n", ns, "addr", "add", f"{addr(i)}/24", "dev", "eth0")
        _sh("ip", "-n", ns, "link", "set", "eth0", "up")
        _sh("ip", "-n", ns, "link", "set", "lo", "up")


def drop(grudge):
    """Applies a grudge {node: nodes it stops hearing from}: each receiving
    node drops every packet from those nodes' addresses."""
    for dst, sources in grudge.items():
        for src in sources:
            _iptables(dst, "-A", "INPUT", "-s", addr(src), "-j", "DROP")


def lose(nodes, probability):
    """Each of `nodes` drops that fraction of all packets it receives."""
    for i in nodes:
        _iptables(i, "-A", "INPUT", "-m", "statistic", "--mode", "random", "--probability", str(probability), "-j", "DROP")


def heal(nodes):
    """Removes every fault rule from nodes 1..nodes."""
    for i in range(1, nodes + 1):
        _iptables(i, "-F", "INPUT")


def available():
    """None when this process can build the network, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    return None
