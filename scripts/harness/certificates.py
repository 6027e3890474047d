"""Throwaway certificates for the HTTPS benchmark, made with the openssl command-line
tool in a temporary directory: a CA (ECDSA P-256) and, signed by it, one leaf for
`localhost` and 127.0.0.1 per key type the issue measures (ECDSA P-256, RSA 2048).
Each leaf's certificate file holds the leaf and then the CA (a PEM chain, as an
operator's fullchain.pem does); each key is mode 0600. Nothing here is committed or
trusted by anything but the run that made it."""
import os
import subprocess

# The key types of issue 16's table: genpkey arguments for each.
KEY_TYPES = {
    "ecdsa": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
}
TITLES = {"ecdsa": "ECDSA P-256", "rsa": "RSA 2048"}

LEAF_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
"""


class Leaf:
    """One server identity: its certificate chain and key, and the CA that signed it."""

    def __init__(self, kind, certificate, key, ca):
        self.kind = kind
        self.title = TITLES[kind]
        self.certificate = certificate
        self.key = key
        self.ca = ca


def _openssl(*arguments):
    result = subprocess.run(["openssl", *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {arguments[0]} failed: {result.stderr.strip().splitlines()[-1:]}")


def _key(path, kind):
    _openssl("genpkey", *KEY_TYPES[kind], "-out", path)
    os.chmod(path, 0o600)


def generate(directory):
    """Writes the CA and one leaf per key type into `directory`; returns {kind: Leaf}."""
    ca_key = os.path.join(directory, "ca.key")
    ca = os.path.join(directory, "ca.pem")
    _key(ca_key, "ecdsa")
    _openssl("req", "-x509", "-new", "-key", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=bench throwaway CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    extensions = os.path.join(directory, "leaf.ext")
    with open(extensions, "w") as out:
        out.write(LEAF_EXTENSIONS)
    leaves = {}
    for kind in KEY_TYPES:
        key = os.path.join(directory, f"{kind}.key")
        request = os.path.join(directory, f"{kind}.csr")
        leaf = os.path.join(directory, f"{kind}.leaf.pem")
        chain = os.path.join(directory, f"{kind}.pem")
        _key(key, kind)
        _openssl("req", "-new", "-key", key, "-out", request, "-subj", "/CN=localhost")
        _openssl("x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", leaf,
                 "-days", "2", "-extfile", extensions)
        with open(chain, "w") as out, open(leaf) as first, open(ca) as second:
            out.write(first.read() + second.read())
        leaves[kind] = Leaf(kind, chain, key, ca)
    return leaves
